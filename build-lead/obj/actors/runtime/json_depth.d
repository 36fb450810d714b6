build-lead/obj/actors/runtime/json_depth.o: actors/runtime/json_depth.c \
 actors/runtime/json_depth.h
actors/runtime/json_depth.h:
