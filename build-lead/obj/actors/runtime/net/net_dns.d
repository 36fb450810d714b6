build-lead/obj/actors/runtime/net/net_dns.o: actors/runtime/net/net_dns.c \
 actors/runtime/net/net.h actors/runtime/runtime.h \
 actors/runtime/shared/hberr.h actors/runtime/record.h \
 actors/runtime/runtime.h
actors/runtime/net/net.h:
actors/runtime/runtime.h:
actors/runtime/shared/hberr.h:
actors/runtime/record.h:
actors/runtime/runtime.h:
