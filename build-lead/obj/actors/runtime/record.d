build-lead/obj/actors/runtime/record.o: actors/runtime/record.c \
 actors/runtime/record.h actors/runtime/runtime.h \
 actors/runtime/shared/hberr.h actors/runtime/sbdir.h \
 actors/runtime/shared/sbdir_names.h
actors/runtime/record.h:
actors/runtime/runtime.h:
actors/runtime/shared/hberr.h:
actors/runtime/sbdir.h:
actors/runtime/shared/sbdir_names.h:
