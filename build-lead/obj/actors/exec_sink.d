build-lead/obj/actors/exec_sink.o: actors/exec_sink.c actors/exec_sink.h \
 actors/runtime/runtime.h actors/runtime/shared/hberr.h
actors/exec_sink.h:
actors/runtime/runtime.h:
actors/runtime/shared/hberr.h:
