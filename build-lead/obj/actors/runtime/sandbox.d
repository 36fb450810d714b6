build-lead/obj/actors/runtime/sandbox.o: actors/runtime/sandbox.c \
 actors/runtime/cgroup.h actors/runtime/runtime.h \
 actors/runtime/shared/hberr.h actors/runtime/disk/diskpool.h \
 actors/runtime/runtime.h schemas/launchconf.h \
 actors/runtime/disk/layer.h actors/runtime/shared/log.h \
 actors/runtime/net/net.h actors/runtime/shared/procfs.h \
 actors/runtime/record.h actors/runtime/sbdir.h \
 actors/runtime/shared/sbdir_names.h actors/runtime/rmtree.h \
 actors/runtime/uidslot.h
actors/runtime/cgroup.h:
actors/runtime/runtime.h:
actors/runtime/shared/hberr.h:
actors/runtime/disk/diskpool.h:
actors/runtime/runtime.h:
schemas/launchconf.h:
actors/runtime/disk/layer.h:
actors/runtime/shared/log.h:
actors/runtime/net/net.h:
actors/runtime/shared/procfs.h:
actors/runtime/record.h:
actors/runtime/sbdir.h:
actors/runtime/shared/sbdir_names.h:
actors/runtime/rmtree.h:
actors/runtime/uidslot.h:
