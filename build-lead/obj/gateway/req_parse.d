build-lead/obj/gateway/req_parse.o: gateway/req_parse.c \
 gateway/req_parse.h actors/runtime/shared/hberr.h schemas/messages.h \
 schemas/messages.def actors/opencode/opencode_conf.h actors/config.h \
 actors/config.def actors/runtime/json_depth.h \
 actors/runtime/shared/path.h actors/runtime/runtime.h gateway/query.h
gateway/req_parse.h:
actors/runtime/shared/hberr.h:
schemas/messages.h:
schemas/messages.def:
actors/opencode/opencode_conf.h:
actors/config.h:
actors/config.def:
actors/runtime/json_depth.h:
actors/runtime/shared/path.h:
actors/runtime/runtime.h:
gateway/query.h:
