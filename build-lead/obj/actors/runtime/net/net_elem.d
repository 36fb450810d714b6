build-lead/obj/actors/runtime/net/net_elem.o: \
 actors/runtime/net/net_elem.c actors/runtime/net/net.h \
 actors/runtime/runtime.h actors/runtime/shared/hberr.h
actors/runtime/net/net.h:
actors/runtime/runtime.h:
actors/runtime/shared/hberr.h:
