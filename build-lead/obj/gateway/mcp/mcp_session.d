build-lead/obj/gateway/mcp/mcp_session.o: gateway/mcp/mcp_session.c \
 gateway/mcp/mcp_http.h gateway/mcp/mcp.h actors/supervisor/lease.h \
 actors/runtime/files_archive.h actors/runtime/runtime.h \
 actors/runtime/shared/hberr.h actors/runtime/runtime.h
gateway/mcp/mcp_http.h:
gateway/mcp/mcp.h:
actors/supervisor/lease.h:
actors/runtime/files_archive.h:
actors/runtime/runtime.h:
actors/runtime/shared/hberr.h:
actors/runtime/runtime.h:
