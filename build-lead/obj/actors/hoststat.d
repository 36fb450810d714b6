build-lead/obj/actors/hoststat.o: actors/hoststat.c actors/hoststat.h
actors/hoststat.h:
