build-lead/obj/gateway/auth.o: gateway/auth.c gateway/auth.h
gateway/auth.h:
