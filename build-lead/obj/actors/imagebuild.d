build-lead/obj/actors/imagebuild.o: actors/imagebuild.c \
 actors/imagebuild.h actors/runtime/runtime.h \
 actors/runtime/shared/hberr.h actors/bus.h actors/runtime/shared/log.h \
 schemas/messages.h schemas/messages.def
actors/imagebuild.h:
actors/runtime/runtime.h:
actors/runtime/shared/hberr.h:
actors/bus.h:
actors/runtime/shared/log.h:
schemas/messages.h:
schemas/messages.def:
