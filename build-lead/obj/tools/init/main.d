build-lead/obj/tools/init/main.o: tools/init/main.c tools/init/init.h \
 tools/init/launcher/launcher.h actors/runtime/shared/log.h
tools/init/init.h:
tools/init/launcher/launcher.h:
actors/runtime/shared/log.h:
