build-lead/obj/actors/opencode/opencode_conf.o: \
 actors/opencode/opencode_conf.c actors/opencode/opencode_conf.h \
 actors/config.h actors/config.def actors/runtime/shared/hberr.h \
 actors/runtime/runtime.h
actors/opencode/opencode_conf.h:
actors/config.h:
actors/config.def:
actors/runtime/shared/hberr.h:
actors/runtime/runtime.h:
