build-lead/obj/actors/runtime/disk/btrfs.o: actors/runtime/disk/btrfs.c \
 actors/runtime/disk/btrfs.h
actors/runtime/disk/btrfs.h:
