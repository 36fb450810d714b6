build-lead/obj/actors/opencode/proxy.o: actors/opencode/proxy.c \
 actors/opencode/proxy.h actors/actor.h actors/bus.h \
 actors/runtime/shared/log.h actors/runtime/shared/hberr.h \
 schemas/messages.h schemas/messages.def actors/config.h \
 actors/config.def actors/runtime/runtime.h \
 actors/opencode/opencode_conf.h actors/opencode/opencode_proc.h \
 actors/opencode/opencode_start.h actors/runtime/sbdir.h \
 actors/runtime/shared/sbdir_names.h
actors/opencode/proxy.h:
actors/actor.h:
actors/bus.h:
actors/runtime/shared/log.h:
actors/runtime/shared/hberr.h:
schemas/messages.h:
schemas/messages.def:
actors/config.h:
actors/config.def:
actors/runtime/runtime.h:
actors/opencode/opencode_conf.h:
actors/opencode/opencode_proc.h:
actors/opencode/opencode_start.h:
actors/runtime/sbdir.h:
actors/runtime/shared/sbdir_names.h:
