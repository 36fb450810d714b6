build-lead/obj/actors/runtime/image/image_facts.o: \
 actors/runtime/image/image_facts.c actors/runtime/image/image_internal.h \
 actors/runtime/runtime.h actors/runtime/shared/hberr.h \
 actors/runtime/record.h actors/runtime/runtime.h
actors/runtime/image/image_internal.h:
actors/runtime/runtime.h:
actors/runtime/shared/hberr.h:
actors/runtime/record.h:
actors/runtime/runtime.h:
