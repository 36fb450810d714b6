build-lead/obj/actors/runtime/net/net.o: actors/runtime/net/net.c \
 actors/runtime/net/net.h actors/runtime/runtime.h \
 actors/runtime/shared/hberr.h schemas/launchconf.h \
 actors/runtime/shared/log.h actors/runtime/shared/netlink.h
actors/runtime/net/net.h:
actors/runtime/runtime.h:
actors/runtime/shared/hberr.h:
schemas/launchconf.h:
actors/runtime/shared/log.h:
actors/runtime/shared/netlink.h:
