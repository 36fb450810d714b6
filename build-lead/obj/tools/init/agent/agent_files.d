build-lead/obj/tools/init/agent/agent_files.o: \
 tools/init/agent/agent_files.c tools/init/agent/agent.h \
 schemas/initmsg.h schemas/initproto.h actors/runtime/shared/path.h \
 actors/runtime/runtime.h actors/runtime/shared/hberr.h \
 schemas/initproto.def actors/runtime/shared/log.h
tools/init/agent/agent.h:
schemas/initmsg.h:
schemas/initproto.h:
actors/runtime/shared/path.h:
actors/runtime/runtime.h:
actors/runtime/shared/hberr.h:
schemas/initproto.def:
actors/runtime/shared/log.h:
