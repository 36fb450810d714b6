build-lead/obj/actors/runtime/cgroup_kill.o: actors/runtime/cgroup_kill.c \
 actors/runtime/cgroup.h actors/runtime/runtime.h \
 actors/runtime/shared/hberr.h actors/runtime/shared/log.h \
 actors/runtime/shared/procfs.h
actors/runtime/cgroup.h:
actors/runtime/runtime.h:
actors/runtime/shared/hberr.h:
actors/runtime/shared/log.h:
actors/runtime/shared/procfs.h:
