build-lead/obj/gateway/gw_conns.o: gateway/gw_conns.c gateway/gw_conns.h \
 actors/bus.h actors/runtime/shared/log.h actors/runtime/shared/hberr.h \
 schemas/messages.h schemas/messages.def
gateway/gw_conns.h:
actors/bus.h:
actors/runtime/shared/log.h:
actors/runtime/shared/hberr.h:
schemas/messages.h:
schemas/messages.def:
