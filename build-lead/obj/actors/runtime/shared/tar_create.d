build-lead/obj/actors/runtime/shared/tar_create.o: \
 actors/runtime/shared/tar_create.c actors/runtime/shared/tar_x.h \
 actors/runtime/shared/tar.h actors/runtime/runtime.h \
 actors/runtime/shared/hberr.h
actors/runtime/shared/tar_x.h:
actors/runtime/shared/tar.h:
actors/runtime/runtime.h:
actors/runtime/shared/hberr.h:
