build-lead/obj/tools/cli/cli_image.o: tools/cli/cli_image.c \
 tools/cli/cli.h actors/runtime/shared/log.h actors/runtime/runtime.h \
 actors/runtime/shared/hberr.h
tools/cli/cli.h:
actors/runtime/shared/log.h:
actors/runtime/runtime.h:
actors/runtime/shared/hberr.h:
