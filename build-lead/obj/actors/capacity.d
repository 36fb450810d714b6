build-lead/obj/actors/capacity.o: actors/capacity.c actors/capacity.h \
 actors/runtime/shared/hberr.h actors/runtime/runtime.h
actors/capacity.h:
actors/runtime/shared/hberr.h:
actors/runtime/runtime.h:
