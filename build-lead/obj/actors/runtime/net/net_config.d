build-lead/obj/actors/runtime/net/net_config.o: \
 actors/runtime/net/net_config.c actors/runtime/net/net.h \
 actors/runtime/runtime.h actors/runtime/shared/hberr.h \
 actors/runtime/shared/log.h
actors/runtime/net/net.h:
actors/runtime/runtime.h:
actors/runtime/shared/hberr.h:
actors/runtime/shared/log.h:
