build-lead/obj/gateway/gw_sandbox.o: gateway/gw_sandbox.c \
 gateway/gw_internal.h gateway/gateway.h actors/bus.h \
 actors/runtime/shared/log.h actors/runtime/shared/hberr.h \
 schemas/messages.h schemas/messages.def actors/config.h \
 actors/config.def actors/supervisor/lease.h \
 actors/runtime/files_archive.h actors/runtime/runtime.h \
 actors/runtime/runtime.h actors/opencode/opencode_conf.h gateway/route.h \
 gateway/mcp/mcp_http.h gateway/mcp/mcp.h gateway/exec_json.h \
 gateway/json_stream.h actors/exec_sink.h gateway/json_out.h \
 actors/metrics.h actors/actor.h actors/bus.h gateway/req_parse.h
gateway/gw_internal.h:
gateway/gateway.h:
actors/bus.h:
actors/runtime/shared/log.h:
actors/runtime/shared/hberr.h:
schemas/messages.h:
schemas/messages.def:
actors/config.h:
actors/config.def:
actors/supervisor/lease.h:
actors/runtime/files_archive.h:
actors/runtime/runtime.h:
actors/runtime/runtime.h:
actors/opencode/opencode_conf.h:
gateway/route.h:
gateway/mcp/mcp_http.h:
gateway/mcp/mcp.h:
gateway/exec_json.h:
gateway/json_stream.h:
actors/exec_sink.h:
gateway/json_out.h:
actors/metrics.h:
actors/actor.h:
actors/bus.h:
gateway/req_parse.h:
