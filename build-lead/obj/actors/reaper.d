build-lead/obj/actors/reaper.o: actors/reaper.c actors/reaper.h \
 actors/actor.h actors/bus.h actors/runtime/shared/log.h \
 actors/runtime/shared/hberr.h schemas/messages.h schemas/messages.def
actors/reaper.h:
actors/actor.h:
actors/bus.h:
actors/runtime/shared/log.h:
actors/runtime/shared/hberr.h:
schemas/messages.h:
schemas/messages.def:
