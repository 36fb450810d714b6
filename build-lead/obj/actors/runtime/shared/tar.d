build-lead/obj/actors/runtime/shared/tar.o: actors/runtime/shared/tar.c \
 actors/runtime/shared/tar.h actors/runtime/runtime.h \
 actors/runtime/shared/hberr.h actors/runtime/shared/path.h
actors/runtime/shared/tar.h:
actors/runtime/runtime.h:
actors/runtime/shared/hberr.h:
actors/runtime/shared/path.h:
