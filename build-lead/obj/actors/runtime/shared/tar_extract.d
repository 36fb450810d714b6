build-lead/obj/actors/runtime/shared/tar_extract.o: \
 actors/runtime/shared/tar_extract.c actors/runtime/shared/tar_x.h \
 actors/runtime/shared/tar.h actors/runtime/runtime.h \
 actors/runtime/shared/hberr.h actors/runtime/shared/path.h
actors/runtime/shared/tar_x.h:
actors/runtime/shared/tar.h:
actors/runtime/runtime.h:
actors/runtime/shared/hberr.h:
actors/runtime/shared/path.h:
