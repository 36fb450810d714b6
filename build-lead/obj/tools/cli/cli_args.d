build-lead/obj/tools/cli/cli_args.o: tools/cli/cli_args.c tools/cli/cli.h \
 actors/runtime/runtime.h actors/runtime/shared/hberr.h
tools/cli/cli.h:
actors/runtime/runtime.h:
actors/runtime/shared/hberr.h:
