build-lead/obj/gateway/opencode/gw_opencode.o: \
 gateway/opencode/gw_opencode.c gateway/gw_internal.h gateway/gateway.h \
 actors/bus.h actors/runtime/shared/log.h actors/runtime/shared/hberr.h \
 schemas/messages.h schemas/messages.def actors/config.h \
 actors/config.def actors/supervisor/lease.h \
 actors/runtime/files_archive.h actors/runtime/runtime.h \
 actors/runtime/runtime.h actors/opencode/opencode_conf.h gateway/route.h \
 actors/runtime/json_depth.h gateway/opencode/opencode_guard.h \
 actors/opencode/opencode_proc.h gateway/opencode/opencode_redact.h \
 gateway/opencode/oc_streams.h actors/opencode/proxy.h actors/actor.h \
 actors/bus.h
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
actors/runtime/json_depth.h:
gateway/opencode/opencode_guard.h:
actors/opencode/opencode_proc.h:
gateway/opencode/opencode_redact.h:
gateway/opencode/oc_streams.h:
actors/opencode/proxy.h:
actors/actor.h:
actors/bus.h:
