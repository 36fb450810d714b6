build-lead/obj/actors/runtime/image/image_spawn.o: \
 actors/runtime/image/image_spawn.c actors/runtime/image/image_internal.h \
 actors/runtime/runtime.h actors/runtime/shared/hberr.h \
 actors/runtime/shared/log.h actors/runtime/rmtree.h
actors/runtime/image/image_internal.h:
actors/runtime/runtime.h:
actors/runtime/shared/hberr.h:
actors/runtime/shared/log.h:
actors/runtime/rmtree.h:
