build-lead/obj/tools/init/launcher/launcher.o: \
 tools/init/launcher/launcher.c tools/init/init.h \
 actors/runtime/runtime.h actors/runtime/shared/hberr.h \
 tools/init/launcher/launcher.h tools/init/launcher/launch_conf.h \
 tools/init/launcher/launch_net.h schemas/launchconf.h \
 tools/init/launcher/launch_skills.h actors/runtime/shared/sbdir_names.h \
 actors/runtime/shared/log.h actors/runtime/shared/procfs.h
tools/init/init.h:
actors/runtime/runtime.h:
actors/runtime/shared/hberr.h:
tools/init/launcher/launcher.h:
tools/init/launcher/launch_conf.h:
tools/init/launcher/launch_net.h:
schemas/launchconf.h:
tools/init/launcher/launch_skills.h:
actors/runtime/shared/sbdir_names.h:
actors/runtime/shared/log.h:
actors/runtime/shared/procfs.h:
