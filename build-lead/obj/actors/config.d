build-lead/obj/actors/config.o: actors/config.c actors/config.h \
 actors/config.def actors/runtime/runtime.h actors/runtime/shared/hberr.h
actors/config.h:
actors/config.def:
actors/runtime/runtime.h:
actors/runtime/shared/hberr.h:
