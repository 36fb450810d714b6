build-lead/obj/actors/runtime/shared/procfs.o: \
 actors/runtime/shared/procfs.c actors/runtime/shared/procfs.h
actors/runtime/shared/procfs.h:
