build-lead/obj/actors/runtime/disk/diskpool.o: \
 actors/runtime/disk/diskpool.c actors/runtime/disk/diskpool.h \
 actors/runtime/runtime.h actors/runtime/shared/hberr.h \
 actors/runtime/disk/btrfs.h actors/runtime/image/image_internal.h \
 actors/runtime/shared/log.h actors/runtime/disk/loopdev.h \
 actors/runtime/sbdir.h actors/runtime/shared/sbdir_names.h
actors/runtime/disk/diskpool.h:
actors/runtime/runtime.h:
actors/runtime/shared/hberr.h:
actors/runtime/disk/btrfs.h:
actors/runtime/image/image_internal.h:
actors/runtime/shared/log.h:
actors/runtime/disk/loopdev.h:
actors/runtime/sbdir.h:
actors/runtime/shared/sbdir_names.h:
