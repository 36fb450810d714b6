build-lead/obj/tools/cli/cli_main.o: tools/cli/cli_main.c tools/cli/cli.h \
 actors/runtime/runtime.h actors/runtime/shared/hberr.h
tools/cli/cli.h:
actors/runtime/runtime.h:
actors/runtime/shared/hberr.h:
