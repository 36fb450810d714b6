build-lead/obj/actors/runtime/net/net_alloc.o: \
 actors/runtime/net/net_alloc.c actors/runtime/net/net.h \
 actors/runtime/runtime.h actors/runtime/shared/hberr.h \
 actors/runtime/sbdir.h actors/runtime/shared/sbdir_names.h \
 actors/runtime/shared/log.h
actors/runtime/net/net.h:
actors/runtime/runtime.h:
actors/runtime/shared/hberr.h:
actors/runtime/sbdir.h:
actors/runtime/shared/sbdir_names.h:
actors/runtime/shared/log.h:
