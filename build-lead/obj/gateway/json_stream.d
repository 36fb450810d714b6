build-lead/obj/gateway/json_stream.o: gateway/json_stream.c \
 gateway/json_stream.h gateway/textutil.h
gateway/json_stream.h:
gateway/textutil.h:
