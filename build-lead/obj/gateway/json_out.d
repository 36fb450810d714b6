build-lead/obj/gateway/json_out.o: gateway/json_out.c gateway/json_out.h \
 schemas/messages.h schemas/messages.def actors/opencode/opencode_conf.h \
 actors/config.h actors/config.def actors/runtime/shared/hberr.h \
 actors/runtime/runtime.h gateway/textutil.h
gateway/json_out.h:
schemas/messages.h:
schemas/messages.def:
actors/opencode/opencode_conf.h:
actors/config.h:
actors/config.def:
actors/runtime/shared/hberr.h:
actors/runtime/runtime.h:
gateway/textutil.h:
