build-lead/obj/actors/apikey.o: actors/apikey.c actors/apikey.h \
 actors/runtime/shared/hberr.h actors/runtime/runtime.h
actors/apikey.h:
actors/runtime/shared/hberr.h:
actors/runtime/runtime.h:
