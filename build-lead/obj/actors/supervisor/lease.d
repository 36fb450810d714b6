build-lead/obj/actors/supervisor/lease.o: actors/supervisor/lease.c \
 actors/supervisor/lease.h actors/runtime/files_archive.h \
 actors/runtime/runtime.h actors/runtime/shared/hberr.h \
 actors/runtime/runtime.h actors/bus.h actors/runtime/shared/log.h \
 schemas/messages.h schemas/messages.def actors/supervisor/supervisor.h
actors/supervisor/lease.h:
actors/runtime/files_archive.h:
actors/runtime/runtime.h:
actors/runtime/shared/hberr.h:
actors/runtime/runtime.h:
actors/bus.h:
actors/runtime/shared/log.h:
schemas/messages.h:
schemas/messages.def:
actors/supervisor/supervisor.h:
