# HiveBox build. `make` builds build/hivebox and build/hivebox-init,
# `make test` runs every test, `make check` runs them again under ASan+UBSan.
#
# Two binaries on purpose: the daemon/CLI links czmq, civetweb, curl and
# friends; the init agent (PID 1 of every sandbox) links only msgpack,
# libcap and libmnl so that each idle sandbox costs as little memory as
# possible (its seccomp filter is compiled at build time, see below).

CC       ?= gcc
BUILD    ?= build
SAN      ?=
PREFIX   ?= /usr/local

WARN     := -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wpointer-arith \
            -Wstrict-prototypes -Wmissing-prototypes -Wvla -Wno-unused-parameter
HARDEN   := -fstack-protector-strong -fPIE -fno-strict-aliasing
# Every source folder is on the include path, so a header is named by its
# file name alone; the folders show the architecture (README "Source layout").
SRC_DIRS := actors actors/supervisor actors/opencode actors/runtime actors/runtime/shared \
            actors/runtime/net actors/runtime/image actors/runtime/disk schemas \
            gateway gateway/mcp gateway/opencode gateway/e2b tools tools/cli \
            tools/init tools/init/launcher tools/init/agent tools/seccomp
INCLUDES := -I. $(addprefix -I,$(SRC_DIRS))
CPPFLAGS += -D_GNU_SOURCE $(INCLUDES)
# density (issue 19): czmq's socket leak tracking keeps every zsock_new'd
# socket in one global list that each zsock_destroy scans under a global
# mutex: O(sockets) per request at 10,000 sandboxes. Off.
CPPFLAGS += -DZSOCK_NOCHECK

ifeq ($(SAN),1)
  BUILD   := build-san
  OPT     := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
             -fno-sanitize-recover=undefined
  SANLD   := -fsanitize=address,undefined
else
  OPT     := -O2 -g
  HARDEN  += -D_FORTIFY_SOURCE=2
  SANLD   :=
endif

CFLAGS   += -std=gnu11 $(OPT) $(WARN) $(HARDEN) -pthread
LDFLAGS  += -pie -Wl,-z,relro,-z,now -pthread $(SANLD)

DAEMON_LIBS := -lczmq -lzmq -lmsgpackc -lcivetweb -ljansson -lcurl -lcap -lseccomp -lmnl -lnftables -lz -lcrypto -lm \
               $(shell pkg-config --libs libsystemd)
INIT_LIBS   := -lmsgpackc -lcap -lmnl

# actors/runtime/shared/ is linked into both binaries (with the init protocol
# codec in schemas/): path rules, logging, /proc and netlink helpers, tar.
SHARED_SRC  := $(wildcard schemas/*.c actors/runtime/shared/*.c)
INIT_SRC    := $(shell find tools/init -name '*.c') $(SHARED_SRC)
DAEMON_SRC  := $(shell find actors gateway -name '*.c' -not -path 'actors/runtime/shared/*') \
               $(wildcard tools/cli/*.c) tools/daemon.c tools/hivebox.c $(SHARED_SRC)

INIT_OBJ    := $(patsubst %.c,$(BUILD)/obj/%.o,$(INIT_SRC))
DAEMON_OBJ  := $(patsubst %.c,$(BUILD)/obj/%.o,$(DAEMON_SRC))

all: $(BUILD)/hivebox $(BUILD)/hivebox-init

# ---- the dashboard (webui/), embedded ----------------------------------
# Its vendor modules come from npm (webui/package-lock.json), installed here
# when missing or older than the lock; tools/gen_webui.py turns webui/src and
# the vendor.txt files into a blob and its table (gateway/gw_dash_asset.h),
# rebuilt when any of them changes. Generated code stays out of lint/tidy.
NPM        ?= npm
WEBUI_SRC  := $(shell find webui/src -type f -not -name '.*' 2>/dev/null)
WEBUI_STAMP := webui/node_modules/.package-lock.json
DASH_GEN   := $(BUILD)/gen/dashboard_assets.c
DASH_OBJ   := $(BUILD)/obj/gen/dashboard_assets.o
# The list of src/ files, rewritten only when it changes: a removed file
# rebuilds the blob too (an mtime cannot say so).
WEBUI_LIST := $(BUILD)/gen/webui.list
$(shell mkdir -p $(BUILD)/gen && printf '%s\n' $(WEBUI_SRC) > $(WEBUI_LIST).new && \
  { cmp -s $(WEBUI_LIST).new $(WEBUI_LIST) && rm -f $(WEBUI_LIST).new || mv -f $(WEBUI_LIST).new $(WEBUI_LIST); })

$(WEBUI_STAMP): webui/package-lock.json webui/package.json
	$(NPM) ci --prefix webui --ignore-scripts --no-audit --no-fund
	@touch $@

$(DASH_GEN): tools/gen_webui.py $(WEBUI_SRC) $(WEBUI_LIST) webui/vendor.txt $(WEBUI_STAMP)
	/usr/bin/python3 tools/gen_webui.py --src webui/src --vendor webui/vendor.txt \
	  --modules webui/node_modules --out $(BUILD)/gen

$(DASH_OBJ): $(DASH_GEN) gateway/gw_dash_asset.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/hivebox: $(DAEMON_OBJ) $(DASH_OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(DAEMON_LIBS)

# ---- the sandbox seccomp filter, compiled at build time ------------------
# tools/seccomp/seccomp_gen.c builds the rules of seccomp_rules.c with
# libseccomp and writes the BPF as a C array that init links (issue 19: no
# libseccomp, no 2.5 ms compile in every sandbox). tests/unit/test_seccomp_bpf.c
# rebuilds the rules and compares.
SECCOMP_RULES := tools/seccomp/seccomp_rules.c
SECCOMP_GENBIN := $(BUILD)/seccomp-gen
SECCOMP_GEN   := $(BUILD)/gen/seccomp_filter.c
SECCOMP_OBJ   := $(BUILD)/obj/gen/seccomp_filter.o

$(SECCOMP_GENBIN): tools/seccomp/seccomp_gen.c $(SECCOMP_RULES) tools/seccomp/seccomp_rules.h
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ tools/seccomp/seccomp_gen.c $(SECCOMP_RULES) $(LDFLAGS) -lseccomp

$(SECCOMP_GEN): $(SECCOMP_GENBIN)
	@mkdir -p $(dir $@)
	$(SECCOMP_GENBIN) $@

$(SECCOMP_OBJ): $(SECCOMP_GEN) tools/init/agent/agent_seccomp_bpf.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/hivebox-init: $(INIT_OBJ) $(SECCOMP_OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(INIT_LIBS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

-include $(DAEMON_OBJ:.o=.d) $(INIT_OBJ:.o=.d)

# The OpenAPI document is embedded with .incbin, which -MMD cannot see.
$(BUILD)/obj/gateway/openapi_blob.o: schemas/openapi.json

# ---- tests -------------------------------------------------------------
UNIT_SRC := $(wildcard tests/unit/*.c)
# The launcher's launch.conf reader is tested against the daemon's writer.
UNIT_LIB_SRC := $(filter-out tools/hivebox.c,$(DAEMON_SRC)) tools/init/launcher/launch_conf.c \
                tools/init/launcher/launch_net.c tools/init/launcher/launch_skills.c \
                tools/init/agent/agent_ring.c $(SECCOMP_RULES)
UNIT_LIB_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(UNIT_LIB_SRC))
-include $(BUILD)/obj/tools/seccomp/seccomp_rules.d

$(BUILD)/unit-tests: $(UNIT_SRC) $(UNIT_LIB_OBJ) $(DASH_OBJ) $(SECCOMP_OBJ)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(DAEMON_LIBS) -lcriterion

unit: $(BUILD)/unit-tests
	$(BUILD)/unit-tests --jobs 1

PYTEST ?= /usr/bin/python3 -m pytest
E2E_ARGS ?=

# The browser suite (tests/e2e/test_dashboard.py) runs once: not under ASan.
e2e: all
	HIVEBOX_BUILD=$(abspath $(BUILD)) \
	  HIVEBOX_DASHBOARD_TESTS=$(if $(filter 1,$(SAN)),skip-sanitized,run) $(PYTEST) -q -ra --durations=25 tests/e2e $(E2E_ARGS)

# CI builds the default image while the unit tests run (tests/e2e/conftest.py
# waits for it when HIVEBOX_E2E_IMAGE_WAIT is set), and the fuzz targets in the
# background while the e2e suites run.
test: all unit e2e fuzz-smoke

# ASan+UBSan: the same unit and end-to-end suites against sanitized binaries.
check:
	$(MAKE) SAN=1 all unit e2e

# ---- fuzzing (clang + libFuzzer) --------------------------------------
FUZZ_SECONDS ?= 8
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,build-fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE $(INCLUDES)

# Targets whose parser lives outside $(SHARED_SRC) name the extra sources.
FUZZ_EXTRA_fuzz_request := gateway/req_parse.c gateway/req_parse_proc.c gateway/req_parse_files.c gateway/req_parse_meta.c actors/runtime/proc_sig.c \
                          gateway/query.c gateway/route.c actors/runtime/spec.c \
                          actors/opencode/opencode_conf.c actors/runtime/json_depth.c \
                          gateway/req_parse_egress.c actors/runtime/net/egress_policy.c
FUZZ_EXTRA_fuzz_opencode := gateway/opencode/opencode_guard.c gateway/opencode/opencode_redact.c actors/runtime/json_depth.c
FUZZ_EXTRA_fuzz_mcp := gateway/mcp/mcp_rpc.c gateway/mcp/mcp_schema.c gateway/mcp/mcp_text.c gateway/mcp/mcp_glob.c \
                      actors/runtime/json_depth.c
FUZZ_EXTRA_fuzz_json_depth := actors/runtime/json_depth.c
FUZZ_EXTRA_fuzz_e2b_api := gateway/e2b/e2b_api_parse.c $(FUZZ_EXTRA_fuzz_request)
FUZZ_EXTRA_fuzz_e2b_connect := gateway/e2b/e2b_cx_parse.c gateway/e2b/e2b_proc_parse.c \
                              gateway/e2b/e2b_util.c actors/runtime/json_depth.c
FUZZ_EXTRA_fuzz_multipart := gateway/e2b/e2b_multipart.c
FUZZ_EXTRA_fuzz_reqlog := gateway/reqid.c
FUZZ_EXTRA_fuzz_oci := actors/runtime/image/oci_json.c actors/runtime/image/oci_config.c \
                       actors/runtime/image/oci_archive.c actors/runtime/json_depth.c -lcrypto
FUZZ_EXTRA_fuzz_dns := actors/runtime/net/dns_msg.c
FUZZ_EXTRA_fuzz_build_req := gateway/build_req.c gateway/build_log.c gateway/textutil.c $(FUZZ_EXTRA_fuzz_request)
# issue 16 (preview ports)
FUZZ_EXTRA_fuzz_preview := gateway/preview_parse.c gateway/preview_body.c gateway/preview_req.c \
                           gateway/auth.c $(FUZZ_EXTRA_fuzz_request)
FUZZ_EXTRA_fuzz_ws_frame := gateway/ws_frame.c
FUZZ_EXTRA_fuzz_ws_deflate := gateway/ws_deflate.c

# Written under a temporary name and renamed: CI builds these in the
# background while `make test` may reach fuzz-build too (a target both build
# is compiled twice, never left half-written).
build-fuzz/%: tests/fuzz/%.c $(SHARED_SRC) $(DAEMON_SRC)
	@mkdir -p build-fuzz
	clang $(FUZZ_CFLAGS) -o $@.tmp$$$$ $< $(SHARED_SRC) $(FUZZ_EXTRA_$*) -lmsgpackc -ljansson -lmnl -lm -lz \
	  && mv -f $@.tmp$$$$ $@

fuzz-build: $(FUZZ_TARGETS)

fuzz-smoke: fuzz-build
	@# New inputs go to build-fuzz/corpus-<target> (first dir); the seeds in the tree stay as they are.
	@for t in $(FUZZ_TARGETS); do \
	  n=$$(basename $$t); c=tests/fuzz/corpus/$$n; w=build-fuzz/corpus-$$n; mkdir -p $$c $$w; \
	  echo "fuzz $$t ($(FUZZ_SECONDS)s)"; \
	  $$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=0 $$w $$c >/dev/null 2>build-fuzz/$$n.log \
	    || { tail -40 build-fuzz/$$(basename $$t).log; exit 1; }; \
	done

bench: all
	/usr/bin/python3 tools/bench/bench.py
	/usr/bin/python3 tools/bench/bench_cluster.py

# Issue 20: the cluster alone (3 etcd members, 3 daemons; docs/scale-out.md).
bench-cluster: all
	/usr/bin/python3 tools/bench/bench_cluster.py

# A tiny run (N=5, density 10) that only keeps the harness working; timings are never asserted.
bench-quick: all
	/usr/bin/python3 tools/bench/bench.py --quick

lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	  --suppress=missingIncludeSystem -D_GNU_SOURCE $(INCLUDES) \
	  actors gateway schemas tools

# clang-tidy with the checked-in .clang-tidy (bugprone, the static analyzer,
# cognitive complexity); every source of both binaries, the CLI and the bench
# helpers (built by bench.py; they define _GNU_SOURCE themselves).
TIDY_SRC  := $(sort $(DAEMON_SRC) $(INIT_SRC) $(wildcard tools/seccomp/*.c))
TIDY_JOBS ?= $(shell nproc)
tidy:
	@printf '%s\n' $(TIDY_SRC) | xargs -P$(TIDY_JOBS) -I{} clang-tidy --quiet {} -- $(CPPFLAGS) 2>/dev/null
	@printf '%s\n' $(wildcard tools/bench/*.c) | xargs -P$(TIDY_JOBS) -I{} clang-tidy --quiet {} -- -Itools/bench 2>/dev/null

# ---- install (README "Run it"; PREFIX and DESTDIR as usual) -------------
# The daemon finds hivebox-init and OpenCode in $(PREFIX)/lib/hivebox. The
# unit goes where systemd looks for a package's units under the prefix
# (/usr/local/lib/systemd/system; /etc/systemd/system stays the admin's, for
# `systemctl edit`); its settings are /etc/hivebox/env whatever the prefix.
# The man page and the completion are generated from the binary's --help.
# `install -C` leaves an unchanged file untouched (setup.sh runs this twice).
SYSCONFDIR  ?= /etc
UNITDIR     ?= $(PREFIX)/lib/systemd/system
MANDIR      ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ENV_FILE    := $(DESTDIR)$(SYSCONFDIR)/hivebox/env
INSTALLED   := $(PREFIX)/bin/hivebox $(PREFIX)/lib/hivebox/hivebox-init \
               $(UNITDIR)/hivebox.service $(MANDIR)/man1/hivebox.1 $(BASHCOMPDIR)/hivebox
GEN_INSTALL := $(BUILD)/install

install: all
	@mkdir -p $(GEN_INSTALL)
	/usr/bin/python3 tools/gen_cli_docs.py --hivebox $(BUILD)/hivebox --prefix $(PREFIX) \
	  --unitdir $(UNITDIR) --man $(GEN_INSTALL)/hivebox.1 --completion $(GEN_INSTALL)/hivebox.bash
	sed 's|/usr/local/bin/hivebox|$(PREFIX)/bin/hivebox|' tools/systemd/hivebox.service \
	  > $(GEN_INSTALL)/hivebox.service
	install -C -D -m 0755 $(BUILD)/hivebox $(DESTDIR)$(PREFIX)/bin/hivebox
	install -C -D -m 0755 $(BUILD)/hivebox-init $(DESTDIR)$(PREFIX)/lib/hivebox/hivebox-init
	install -C -D -m 0644 $(GEN_INSTALL)/hivebox.service $(DESTDIR)$(UNITDIR)/hivebox.service
	install -C -D -m 0644 $(GEN_INSTALL)/hivebox.1 $(DESTDIR)$(MANDIR)/man1/hivebox.1
	install -C -D -m 0644 $(GEN_INSTALL)/hivebox.bash $(DESTDIR)$(BASHCOMPDIR)/hivebox
	@if [ -e $(ENV_FILE) ]; then echo "kept $(ENV_FILE)"; \
	 else install -D -m 0600 tools/systemd/hivebox.env $(ENV_FILE); fi

# OpenCode (npm, pinned, ~350 MB) where an installed daemon looks for it;
# without it the agent routes answer 503. tools/setup.sh runs this.
install-opencode:
	tools/install-opencode.sh $(DESTDIR)$(PREFIX)/lib/hivebox

# Removes what install and install-opencode put; keeps /etc/hivebox/env once
# edited (the key and LLM settings are the operator's) and never touches the
# data dir (/var/lib/hivebox: images, sandboxes, the generated key).
uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	rm -rf $(DESTDIR)$(PREFIX)/lib/hivebox/opencode
	-rmdir $(DESTDIR)$(PREFIX)/lib/hivebox 2>/dev/null
	@if cmp -s tools/systemd/hivebox.env $(ENV_FILE); then rm -f $(ENV_FILE); \
	   rmdir $(DESTDIR)$(SYSCONFDIR)/hivebox 2>/dev/null || true; \
	 elif [ -e $(ENV_FILE) ]; then echo "kept $(ENV_FILE) (edited)"; fi

# ---- the container image (tools/container/Dockerfile, docs/container.md) ----
# With docker when its daemon answers, else podman; apt and npm inside use this
# host's mirror, registry and CA certificates (tools/container/build-args.sh).
# IMAGE_ARGS adds build options (e.g. --build-arg BASE=localhost/debian:bookworm).
IMAGE      ?= hivebox
IMAGE_TOOL ?= $(shell docker info >/dev/null 2>&1 && echo docker || command -v podman 2>/dev/null)
IMAGE_ARGS ?=
image:
	@test -n "$(IMAGE_TOOL)" || { echo "make image: neither docker nor podman is installed" >&2; exit 1; }
	$(IMAGE_TOOL) build $(if $(findstring podman,$(IMAGE_TOOL)),--format docker) \
	  $$(tools/container/build-args.sh) \
	  -f tools/container/Dockerfile -t $(IMAGE) $(IMAGE_ARGS) .

clean:
	rm -rf build build-san build-fuzz

.PHONY: all unit e2e test check fuzz-build fuzz-smoke bench bench-quick bench-cluster lint tidy install \
        install-opencode uninstall image clean
