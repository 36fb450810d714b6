build-lead/obj/tools/init/launcher/launch_conf.o: \
 tools/init/launcher/launch_conf.c tools/init/launcher/launch_conf.h \
 tools/init/init.h tools/init/launcher/launch_net.h schemas/launchconf.h \
 tools/init/launcher/launch_skills.h actors/runtime/runtime.h \
 actors/runtime/shared/hberr.h
tools/init/launcher/launch_conf.h:
tools/init/init.h:
tools/init/launcher/launch_net.h:
schemas/launchconf.h:
tools/init/launcher/launch_skills.h:
actors/runtime/runtime.h:
actors/runtime/shared/hberr.h:
