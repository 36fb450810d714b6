build-lead/obj/tools/init/agent/agent_archive.o: \
 tools/init/agent/agent_archive.c tools/init/agent/agent.h \
 schemas/initmsg.h schemas/initproto.h actors/runtime/shared/path.h \
 actors/runtime/runtime.h actors/runtime/shared/hberr.h \
 schemas/initproto.def actors/runtime/shared/tar_x.h \
 actors/runtime/shared/tar.h
tools/init/agent/agent.h:
schemas/initmsg.h:
schemas/initproto.h:
actors/runtime/shared/path.h:
actors/runtime/runtime.h:
actors/runtime/shared/hberr.h:
schemas/initproto.def:
actors/runtime/shared/tar_x.h:
actors/runtime/shared/tar.h:
