build-lead/obj/actors/runtime/shared/log.o: actors/runtime/shared/log.c \
 actors/runtime/shared/log.h
actors/runtime/shared/log.h:
