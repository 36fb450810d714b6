build-lead/obj/schemas/launchconf.o: schemas/launchconf.c \
 schemas/launchconf.h
schemas/launchconf.h:
