build-lead/obj/actors/opencode/opencode_proc.o: \
 actors/opencode/opencode_proc.c actors/runtime/shared/procfs.h \
 actors/opencode/opencode_proc.h actors/runtime/shared/hberr.h \
 actors/runtime/shared/log.h actors/opencode/opencode_conf.h \
 actors/config.h actors/config.def actors/runtime/record.h \
 actors/runtime/runtime.h actors/runtime/rmtree.h \
 actors/runtime/runtime.h actors/runtime/sbdir.h \
 actors/runtime/shared/sbdir_names.h
actors/runtime/shared/procfs.h:
actors/opencode/opencode_proc.h:
actors/runtime/shared/hberr.h:
actors/runtime/shared/log.h:
actors/opencode/opencode_conf.h:
actors/config.h:
actors/config.def:
actors/runtime/record.h:
actors/runtime/runtime.h:
actors/runtime/rmtree.h:
actors/runtime/runtime.h:
actors/runtime/sbdir.h:
actors/runtime/shared/sbdir_names.h:
