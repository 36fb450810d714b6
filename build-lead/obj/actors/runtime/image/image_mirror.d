build-lead/obj/actors/runtime/image/image_mirror.o: \
 actors/runtime/image/image_mirror.c \
 actors/runtime/image/image_internal.h actors/runtime/runtime.h \
 actors/runtime/shared/hberr.h
actors/runtime/image/image_internal.h:
actors/runtime/runtime.h:
actors/runtime/shared/hberr.h:
