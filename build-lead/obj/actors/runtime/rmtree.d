build-lead/obj/actors/runtime/rmtree.o: actors/runtime/rmtree.c \
 actors/runtime/rmtree.h actors/runtime/disk/btrfs.h
actors/runtime/rmtree.h:
actors/runtime/disk/btrfs.h:
