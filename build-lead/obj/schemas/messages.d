build-lead/obj/schemas/messages.o: schemas/messages.c schemas/messages.h \
 schemas/messages.def
schemas/messages.h:
schemas/messages.def:
