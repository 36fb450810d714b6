build-lead/obj/actors/runtime/runtime.o: actors/runtime/runtime.c \
 actors/runtime/cgroup.h actors/runtime/runtime.h \
 actors/runtime/shared/hberr.h actors/runtime/disk/diskpool.h \
 actors/runtime/runtime.h actors/runtime/image/image_internal.h \
 actors/runtime/net/net.h actors/runtime/shared/log.h \
 actors/runtime/shared/procfs.h actors/runtime/rmtree.h \
 actors/runtime/sbdir.h actors/runtime/shared/sbdir_names.h
actors/runtime/cgroup.h:
actors/runtime/runtime.h:
actors/runtime/shared/hberr.h:
actors/runtime/disk/diskpool.h:
actors/runtime/runtime.h:
actors/runtime/image/image_internal.h:
actors/runtime/net/net.h:
actors/runtime/shared/log.h:
actors/runtime/shared/procfs.h:
actors/runtime/rmtree.h:
actors/runtime/sbdir.h:
actors/runtime/shared/sbdir_names.h:
