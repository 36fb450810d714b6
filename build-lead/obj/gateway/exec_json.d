build-lead/obj/gateway/exec_json.o: gateway/exec_json.c \
 gateway/exec_json.h gateway/json_stream.h schemas/messages.h \
 schemas/messages.def actors/runtime/runtime.h \
 actors/runtime/shared/hberr.h
gateway/exec_json.h:
gateway/json_stream.h:
schemas/messages.h:
schemas/messages.def:
actors/runtime/runtime.h:
actors/runtime/shared/hberr.h:
