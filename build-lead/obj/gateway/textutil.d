build-lead/obj/gateway/textutil.o: gateway/textutil.c gateway/textutil.h
gateway/textutil.h:
