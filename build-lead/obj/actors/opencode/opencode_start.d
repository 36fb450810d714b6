build-lead/obj/actors/opencode/opencode_start.o: \
 actors/opencode/opencode_start.c actors/opencode/opencode_start.h \
 actors/runtime/shared/hberr.h actors/opencode/opencode_conf.h \
 actors/config.h actors/config.def actors/bus.h \
 actors/runtime/shared/log.h schemas/messages.h schemas/messages.def \
 actors/opencode/opencode_proc.h actors/opencode/proxy.h actors/actor.h \
 actors/bus.h actors/runtime/runtime.h actors/runtime/record.h \
 actors/runtime/runtime.h actors/runtime/sbdir.h \
 actors/runtime/shared/sbdir_names.h
actors/opencode/opencode_start.h:
actors/runtime/shared/hberr.h:
actors/opencode/opencode_conf.h:
actors/config.h:
actors/config.def:
actors/bus.h:
actors/runtime/shared/log.h:
schemas/messages.h:
schemas/messages.def:
actors/opencode/opencode_proc.h:
actors/opencode/proxy.h:
actors/actor.h:
actors/bus.h:
actors/runtime/runtime.h:
actors/runtime/record.h:
actors/runtime/runtime.h:
actors/runtime/sbdir.h:
actors/runtime/shared/sbdir_names.h:
