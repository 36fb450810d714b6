build-lead/obj/actors/runtime/sandbox_fail.o: \
 actors/runtime/sandbox_fail.c actors/runtime/cgroup.h \
 actors/runtime/runtime.h actors/runtime/shared/hberr.h \
 actors/runtime/shared/log.h actors/runtime/net/net.h \
 actors/runtime/runtime.h actors/runtime/shared/procfs.h \
 actors/runtime/record.h actors/runtime/uidslot.h
actors/runtime/cgroup.h:
actors/runtime/runtime.h:
actors/runtime/shared/hberr.h:
actors/runtime/shared/log.h:
actors/runtime/net/net.h:
actors/runtime/runtime.h:
actors/runtime/shared/procfs.h:
actors/runtime/record.h:
actors/runtime/uidslot.h:
