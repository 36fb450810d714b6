build-lead/obj/gateway/mcp/mcp_tools_file.o: gateway/mcp/mcp_tools_file.c \
 gateway/mcp/mcp_tools.h gateway/mcp/mcp.h actors/supervisor/lease.h \
 actors/runtime/files_archive.h actors/runtime/runtime.h \
 actors/runtime/shared/hberr.h actors/runtime/runtime.h \
 gateway/mcp/mcp_text.h
gateway/mcp/mcp_tools.h:
gateway/mcp/mcp.h:
actors/supervisor/lease.h:
actors/runtime/files_archive.h:
actors/runtime/runtime.h:
actors/runtime/shared/hberr.h:
actors/runtime/runtime.h:
gateway/mcp/mcp_text.h:
