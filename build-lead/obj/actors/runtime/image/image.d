build-lead/obj/actors/runtime/image/image.o: actors/runtime/image/image.c \
 actors/runtime/image/image_internal.h actors/runtime/runtime.h \
 actors/runtime/shared/hberr.h actors/runtime/shared/log.h
actors/runtime/image/image_internal.h:
actors/runtime/runtime.h:
actors/runtime/shared/hberr.h:
actors/runtime/shared/log.h:
