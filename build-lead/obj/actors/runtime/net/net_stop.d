build-lead/obj/actors/runtime/net/net_stop.o: \
 actors/runtime/net/net_stop.c actors/runtime/net/net.h \
 actors/runtime/runtime.h actors/runtime/shared/hberr.h \
 actors/runtime/shared/log.h actors/runtime/shared/netlink.h
actors/runtime/net/net.h:
actors/runtime/runtime.h:
actors/runtime/shared/hberr.h:
actors/runtime/shared/log.h:
actors/runtime/shared/netlink.h:
