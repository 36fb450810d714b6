build-lead/obj/actors/runtime/shared/path.o: actors/runtime/shared/path.c \
 actors/runtime/shared/path.h actors/runtime/runtime.h \
 actors/runtime/shared/hberr.h
actors/runtime/shared/path.h:
actors/runtime/runtime.h:
actors/runtime/shared/hberr.h:
