build-lead/obj/tools/hivebox.o: tools/hivebox.c tools/daemon.h \
 tools/cli/cli.h tools/cli/mcp_stdio.h
tools/daemon.h:
tools/cli/cli.h:
tools/cli/mcp_stdio.h:
