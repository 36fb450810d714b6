build-lead/obj/tools/init/launcher/launch_skills.o: \
 tools/init/launcher/launch_skills.c tools/init/launcher/launch_skills.h \
 schemas/launchconf.h actors/runtime/runtime.h \
 actors/runtime/shared/hberr.h
tools/init/launcher/launch_skills.h:
schemas/launchconf.h:
actors/runtime/runtime.h:
actors/runtime/shared/hberr.h:
