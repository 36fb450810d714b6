build-lead/obj/gateway/mcp/mcp_token.o: gateway/mcp/mcp_token.c \
 gateway/mcp/mcp_http.h gateway/mcp/mcp.h actors/supervisor/lease.h \
 actors/runtime/files_archive.h actors/runtime/runtime.h \
 actors/runtime/shared/hberr.h actors/runtime/runtime.h gateway/auth.h \
 actors/runtime/sbdir.h actors/runtime/shared/sbdir_names.h
gateway/mcp/mcp_http.h:
gateway/mcp/mcp.h:
actors/supervisor/lease.h:
actors/runtime/files_archive.h:
actors/runtime/runtime.h:
actors/runtime/shared/hberr.h:
actors/runtime/runtime.h:
gateway/auth.h:
actors/runtime/sbdir.h:
actors/runtime/shared/sbdir_names.h:
