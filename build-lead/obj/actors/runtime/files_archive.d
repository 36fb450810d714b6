build-lead/obj/actors/runtime/files_archive.o: \
 actors/runtime/files_archive.c actors/runtime/files_archive.h \
 actors/runtime/runtime.h actors/runtime/shared/hberr.h \
 actors/runtime/initclient.h schemas/initmsg.h schemas/initproto.h \
 actors/runtime/shared/path.h actors/runtime/runtime.h \
 schemas/initproto.def
actors/runtime/files_archive.h:
actors/runtime/runtime.h:
actors/runtime/shared/hberr.h:
actors/runtime/initclient.h:
schemas/initmsg.h:
schemas/initproto.h:
actors/runtime/shared/path.h:
actors/runtime/runtime.h:
schemas/initproto.def:
