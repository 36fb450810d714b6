build-lead/obj/actors/runtime/disk/loopdev.o: \
 actors/runtime/disk/loopdev.c actors/runtime/disk/loopdev.h \
 actors/runtime/shared/hberr.h actors/runtime/shared/procfs.h
actors/runtime/disk/loopdev.h:
actors/runtime/shared/hberr.h:
actors/runtime/shared/procfs.h:
