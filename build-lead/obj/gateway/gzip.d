build-lead/obj/gateway/gzip.o: gateway/gzip.c gateway/gzip.h \
 actors/runtime/runtime.h actors/runtime/shared/hberr.h
gateway/gzip.h:
actors/runtime/runtime.h:
actors/runtime/shared/hberr.h:
