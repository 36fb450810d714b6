build-lead/obj/tools/cli/cli_http.o: tools/cli/cli_http.c tools/cli/cli.h
tools/cli/cli.h:
