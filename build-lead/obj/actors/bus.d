build-lead/obj/actors/bus.o: actors/bus.c actors/bus.h \
 actors/runtime/shared/log.h actors/runtime/shared/hberr.h \
 schemas/messages.h schemas/messages.def
actors/bus.h:
actors/runtime/shared/log.h:
actors/runtime/shared/hberr.h:
schemas/messages.h:
schemas/messages.def:
