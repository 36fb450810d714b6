build-lead/obj/actors/runtime/outbuf.o: actors/runtime/outbuf.c \
 actors/runtime/shared/log.h actors/runtime/runtime.h \
 actors/runtime/shared/hberr.h
actors/runtime/shared/log.h:
actors/runtime/runtime.h:
actors/runtime/shared/hberr.h:
