build-lead/obj/tools/cli/cli_create.o: tools/cli/cli_create.c \
 tools/cli/cli.h
tools/cli/cli.h:
