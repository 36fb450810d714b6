build-lead/obj/actors/runtime/cgroup.o: actors/runtime/cgroup.c \
 actors/runtime/cgroup.h actors/runtime/runtime.h \
 actors/runtime/shared/hberr.h schemas/initproto.h \
 actors/runtime/shared/log.h actors/runtime/shared/procfs.h
actors/runtime/cgroup.h:
actors/runtime/runtime.h:
actors/runtime/shared/hberr.h:
schemas/initproto.h:
actors/runtime/shared/log.h:
actors/runtime/shared/procfs.h:
