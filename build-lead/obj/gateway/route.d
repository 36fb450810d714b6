build-lead/obj/gateway/route.o: gateway/route.c gateway/route.h \
 actors/runtime/runtime.h actors/runtime/shared/hberr.h
gateway/route.h:
actors/runtime/runtime.h:
actors/runtime/shared/hberr.h:
