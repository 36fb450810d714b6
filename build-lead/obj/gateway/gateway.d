build-lead/obj/gateway/gateway.o: gateway/gateway.c gateway/gw_internal.h \
 gateway/gateway.h actors/bus.h actors/runtime/shared/log.h \
 actors/runtime/shared/hberr.h schemas/messages.h schemas/messages.def \
 actors/config.h actors/config.def actors/supervisor/lease.h \
 actors/runtime/files_archive.h actors/runtime/runtime.h \
 actors/runtime/runtime.h actors/opencode/opencode_conf.h gateway/route.h \
 gateway/auth.h gateway/gw_conns.h gateway/http_status.h \
 gateway/json_out.h
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
gateway/auth.h:
gateway/gw_conns.h:
gateway/http_status.h:
gateway/json_out.h:
