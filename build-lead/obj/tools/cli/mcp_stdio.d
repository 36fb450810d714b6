build-lead/obj/tools/cli/mcp_stdio.o: tools/cli/mcp_stdio.c \
 tools/cli/mcp_stdio.h tools/cli/cli.h actors/runtime/runtime.h \
 actors/runtime/shared/hberr.h
tools/cli/mcp_stdio.h:
tools/cli/cli.h:
actors/runtime/runtime.h:
actors/runtime/shared/hberr.h:
