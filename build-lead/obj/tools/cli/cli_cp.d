build-lead/obj/tools/cli/cli_cp.o: tools/cli/cli_cp.c tools/cli/cli.h \
 actors/runtime/runtime.h actors/runtime/shared/hberr.h
tools/cli/cli.h:
actors/runtime/runtime.h:
actors/runtime/shared/hberr.h:
