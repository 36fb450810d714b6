build-lead/obj/gateway/opencode/opencode_guard.o: \
 gateway/opencode/opencode_guard.c gateway/opencode/opencode_guard.h \
 actors/runtime/json_depth.h
gateway/opencode/opencode_guard.h:
actors/runtime/json_depth.h:
