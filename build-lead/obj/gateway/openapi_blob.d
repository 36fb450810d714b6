build-lead/obj/gateway/openapi_blob.o: gateway/openapi_blob.c \
 gateway/gw_internal.h gateway/gateway.h actors/bus.h \
 actors/runtime/shared/log.h actors/runtime/shared/hberr.h \
 schemas/messages.h schemas/messages.def actors/config.h \
 actors/config.def actors/supervisor/lease.h \
 actors/runtime/files_archive.h actors/runtime/runtime.h \
 actors/runtime/runtime.h actors/opencode/opencode_conf.h gateway/route.h
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
