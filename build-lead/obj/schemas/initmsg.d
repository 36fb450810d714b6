build-lead/obj/schemas/initmsg.o: schemas/initmsg.c schemas/initmsg.h \
 schemas/initproto.h actors/runtime/shared/path.h \
 actors/runtime/runtime.h actors/runtime/shared/hberr.h \
 schemas/initproto.def
schemas/initmsg.h:
schemas/initproto.h:
actors/runtime/shared/path.h:
actors/runtime/runtime.h:
actors/runtime/shared/hberr.h:
schemas/initproto.def:
