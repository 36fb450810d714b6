build-lead/obj/tools/cli/cli_exec.o: tools/cli/cli_exec.c tools/cli/cli.h \
 actors/runtime/runtime.h actors/runtime/shared/hberr.h
tools/cli/cli.h:
actors/runtime/runtime.h:
actors/runtime/shared/hberr.h:
