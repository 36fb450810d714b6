build-lead/obj/actors/runtime/uidslot.o: actors/runtime/uidslot.c \
 actors/runtime/uidslot.h actors/runtime/runtime.h \
 actors/runtime/shared/hberr.h
actors/runtime/uidslot.h:
actors/runtime/runtime.h:
actors/runtime/shared/hberr.h:
