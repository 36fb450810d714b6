build-lead/obj/actors/runtime/shared/netlink.o: \
 actors/runtime/shared/netlink.c actors/runtime/shared/netlink.h
actors/runtime/shared/netlink.h:
