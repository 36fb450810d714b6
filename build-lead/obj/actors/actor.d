build-lead/obj/actors/actor.o: actors/actor.c actors/actor.h actors/bus.h \
 actors/runtime/shared/log.h actors/runtime/shared/hberr.h \
 schemas/messages.h schemas/messages.def
actors/actor.h:
actors/bus.h:
actors/runtime/shared/log.h:
actors/runtime/shared/hberr.h:
schemas/messages.h:
schemas/messages.def:
