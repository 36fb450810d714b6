build-lead/obj/gateway/opencode/oc_streams.o: \
 gateway/opencode/oc_streams.c gateway/opencode/oc_streams.h \
 actors/runtime/runtime.h actors/runtime/shared/hberr.h
gateway/opencode/oc_streams.h:
actors/runtime/runtime.h:
actors/runtime/shared/hberr.h:
