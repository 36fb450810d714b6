build-lead/obj/gateway/http_status.o: gateway/http_status.c \
 gateway/http_status.h actors/runtime/shared/hberr.h
gateway/http_status.h:
actors/runtime/shared/hberr.h:
