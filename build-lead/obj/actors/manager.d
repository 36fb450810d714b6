build-lead/obj/actors/manager.o: actors/manager.c actors/manager.h \
 actors/actor.h actors/bus.h actors/runtime/shared/log.h \
 actors/runtime/shared/hberr.h schemas/messages.h schemas/messages.def \
 actors/capacity.h actors/runtime/runtime.h \
 actors/supervisor/supervisor.h actors/bus.h actors/opencode/proxy.h \
 actors/actor.h actors/config.h actors/config.def
actors/manager.h:
actors/actor.h:
actors/bus.h:
actors/runtime/shared/log.h:
actors/runtime/shared/hberr.h:
schemas/messages.h:
schemas/messages.def:
actors/capacity.h:
actors/runtime/runtime.h:
actors/supervisor/supervisor.h:
actors/bus.h:
actors/opencode/proxy.h:
actors/actor.h:
actors/config.h:
actors/config.def:
