build-lead/obj/tools/cli/cli_format.o: tools/cli/cli_format.c \
 tools/cli/cli.h
tools/cli/cli.h:
