build-lead/obj/actors/supervisor/supervisor.o: \
 actors/supervisor/supervisor.c actors/supervisor/supervisor.h \
 actors/bus.h actors/runtime/shared/log.h actors/runtime/shared/hberr.h \
 schemas/messages.h schemas/messages.def actors/runtime/runtime.h \
 actors/actor.h actors/bus.h actors/runtime/sbdir.h \
 actors/runtime/shared/sbdir_names.h actors/opencode/proxy.h \
 actors/config.h actors/config.def actors/runtime/skills.h
actors/supervisor/supervisor.h:
actors/bus.h:
actors/runtime/shared/log.h:
actors/runtime/shared/hberr.h:
schemas/messages.h:
schemas/messages.def:
actors/runtime/runtime.h:
actors/actor.h:
actors/bus.h:
actors/runtime/sbdir.h:
actors/runtime/shared/sbdir_names.h:
actors/opencode/proxy.h:
actors/config.h:
actors/config.def:
actors/runtime/skills.h:
