build-lead/obj/schemas/initproto.o: schemas/initproto.c \
 schemas/initproto.h
schemas/initproto.h:
