build-lead/obj/tools/cli/cli_cp_tree.o: tools/cli/cli_cp_tree.c \
 tools/cli/cli.h actors/runtime/runtime.h actors/runtime/shared/hberr.h \
 actors/runtime/shared/tar_x.h actors/runtime/shared/tar.h
tools/cli/cli.h:
actors/runtime/runtime.h:
actors/runtime/shared/hberr.h:
actors/runtime/shared/tar_x.h:
actors/runtime/shared/tar.h:
