build-lead/obj/actors/runtime/spec.o: actors/runtime/spec.c \
 actors/runtime/runtime.h actors/runtime/shared/hberr.h
actors/runtime/runtime.h:
actors/runtime/shared/hberr.h:
