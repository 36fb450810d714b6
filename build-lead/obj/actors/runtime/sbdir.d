build-lead/obj/actors/runtime/sbdir.o: actors/runtime/sbdir.c \
 actors/runtime/sbdir.h actors/runtime/shared/hberr.h \
 actors/runtime/shared/sbdir_names.h actors/runtime/record.h \
 actors/runtime/runtime.h
actors/runtime/sbdir.h:
actors/runtime/shared/hberr.h:
actors/runtime/shared/sbdir_names.h:
actors/runtime/record.h:
actors/runtime/runtime.h:
