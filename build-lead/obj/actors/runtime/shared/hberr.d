build-lead/obj/actors/runtime/shared/hberr.o: \
 actors/runtime/shared/hberr.c actors/runtime/shared/hberr.h
actors/runtime/shared/hberr.h:
