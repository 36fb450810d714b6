build-lead/obj/actors/supervisor/sup_ops.o: actors/supervisor/sup_ops.c \
 actors/supervisor/supervisor.h actors/bus.h actors/runtime/shared/log.h \
 actors/runtime/shared/hberr.h schemas/messages.h schemas/messages.def \
 actors/runtime/runtime.h actors/exec_sink.h actors/runtime/sbdir.h \
 actors/runtime/shared/sbdir_names.h
actors/supervisor/supervisor.h:
actors/bus.h:
actors/runtime/shared/log.h:
actors/runtime/shared/hberr.h:
schemas/messages.h:
schemas/messages.def:
actors/runtime/runtime.h:
actors/exec_sink.h:
actors/runtime/sbdir.h:
actors/runtime/shared/sbdir_names.h:
