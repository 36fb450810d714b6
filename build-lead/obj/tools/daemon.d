build-lead/obj/tools/daemon.o: tools/daemon.c tools/daemon.h \
 actors/apikey.h actors/runtime/shared/hberr.h actors/bus.h \
 actors/runtime/shared/log.h schemas/messages.h schemas/messages.def \
 gateway/gateway.h actors/config.h actors/config.def actors/imagebuild.h \
 actors/runtime/runtime.h actors/capacity.h actors/manager.h \
 actors/actor.h actors/bus.h actors/capacity.h \
 actors/supervisor/supervisor.h actors/metrics.h actors/opencode/proxy.h \
 actors/actor.h actors/reaper.h
tools/daemon.h:
actors/apikey.h:
actors/runtime/shared/hberr.h:
actors/bus.h:
actors/runtime/shared/log.h:
schemas/messages.h:
schemas/messages.def:
gateway/gateway.h:
actors/config.h:
actors/config.def:
actors/imagebuild.h:
actors/runtime/runtime.h:
actors/capacity.h:
actors/manager.h:
actors/actor.h:
actors/bus.h:
actors/capacity.h:
actors/supervisor/supervisor.h:
actors/metrics.h:
actors/opencode/proxy.h:
actors/actor.h:
actors/reaper.h:
