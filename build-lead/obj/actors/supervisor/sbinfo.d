build-lead/obj/actors/supervisor/sbinfo.o: actors/supervisor/sbinfo.c \
 actors/supervisor/supervisor.h actors/bus.h actors/runtime/shared/log.h \
 actors/runtime/shared/hberr.h schemas/messages.h schemas/messages.def \
 actors/runtime/runtime.h actors/runtime/sbdir.h \
 actors/runtime/shared/sbdir_names.h
actors/supervisor/supervisor.h:
actors/bus.h:
actors/runtime/shared/log.h:
actors/runtime/shared/hberr.h:
schemas/messages.h:
schemas/messages.def:
actors/runtime/runtime.h:
actors/runtime/sbdir.h:
actors/runtime/shared/sbdir_names.h:
