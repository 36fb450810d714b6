build-lead/obj/tools/cli/cli_cmds.o: tools/cli/cli_cmds.c tools/cli/cli.h \
 actors/runtime/runtime.h actors/runtime/shared/hberr.h
tools/cli/cli.h:
actors/runtime/runtime.h:
actors/runtime/shared/hberr.h:
