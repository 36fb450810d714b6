build-lead/obj/tools/init/launcher/launch_net.o: \
 tools/init/launcher/launch_net.c tools/init/launcher/launch_net.h \
 schemas/launchconf.h actors/runtime/shared/netlink.h
tools/init/launcher/launch_net.h:
schemas/launchconf.h:
actors/runtime/shared/netlink.h:
