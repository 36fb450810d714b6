build-lead/obj/gateway/mcp/mcp_text.o: gateway/mcp/mcp_text.c \
 gateway/mcp/mcp_text.h actors/runtime/shared/path.h \
 actors/runtime/runtime.h actors/runtime/shared/hberr.h
gateway/mcp/mcp_text.h:
actors/runtime/shared/path.h:
actors/runtime/runtime.h:
actors/runtime/shared/hberr.h:
