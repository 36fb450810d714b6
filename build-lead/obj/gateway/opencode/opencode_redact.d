build-lead/obj/gateway/opencode/opencode_redact.o: \
 gateway/opencode/opencode_redact.c gateway/opencode/opencode_redact.h
gateway/opencode/opencode_redact.h:
