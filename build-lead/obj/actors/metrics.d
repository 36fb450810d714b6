build-lead/obj/actors/metrics.o: actors/metrics.c actors/metrics.h \
 actors/actor.h actors/bus.h actors/runtime/shared/log.h \
 actors/runtime/shared/hberr.h schemas/messages.h schemas/messages.def \
 actors/hoststat.h
actors/metrics.h:
actors/actor.h:
actors/bus.h:
actors/runtime/shared/log.h:
actors/runtime/shared/hberr.h:
schemas/messages.h:
schemas/messages.def:
actors/hoststat.h:
