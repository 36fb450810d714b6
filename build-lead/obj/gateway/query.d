build-lead/obj/gateway/query.o: gateway/query.c gateway/query.h
gateway/query.h:
