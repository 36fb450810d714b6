build-lead/obj/actors/runtime/disk/layer.o: actors/runtime/disk/layer.c \
 actors/runtime/disk/layer.h actors/runtime/runtime.h \
 actors/runtime/shared/hberr.h actors/runtime/disk/btrfs.h
actors/runtime/disk/layer.h:
actors/runtime/runtime.h:
actors/runtime/shared/hberr.h:
actors/runtime/disk/btrfs.h:
