build-lead/obj/actors/runtime/initclient.o: actors/runtime/initclient.c \
 actors/runtime/initclient.h schemas/initmsg.h schemas/initproto.h \
 actors/runtime/shared/path.h actors/runtime/runtime.h \
 actors/runtime/shared/hberr.h schemas/initproto.def \
 actors/runtime/runtime.h actors/runtime/shared/log.h
actors/runtime/initclient.h:
schemas/initmsg.h:
schemas/initproto.h:
actors/runtime/shared/path.h:
actors/runtime/runtime.h:
actors/runtime/shared/hberr.h:
schemas/initproto.def:
actors/runtime/runtime.h:
actors/runtime/shared/log.h:
