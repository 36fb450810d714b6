build-lead/obj/actors/runtime/skills.o: actors/runtime/skills.c \
 actors/runtime/skills.h actors/runtime/shared/hberr.h \
 actors/runtime/runtime.h
actors/runtime/skills.h:
actors/runtime/shared/hberr.h:
actors/runtime/runtime.h:
