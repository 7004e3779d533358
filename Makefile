# Bascule - build, test, demo.  Outputs go to build/ (out of the source tree).
#   make            build the BPF object, its skeleton and the bascule binary
#   make test       install what is missing, build, run every test suite
#   make demo       install what is missing, build, run the lab demo
#   make bench-failover   measure cut-over and failback in the lab
#   make deps       install the Debian packages the project needs
#   make cleanroom  the README's two commands on a fresh Debian 12 root
#   make fuzz       the libFuzzer targets, FUZZ_SECONDS (60) each

BUILD     ?= build
.DEFAULT_GOAL := all
CLANG     ?= clang
BPFTOOL   ?= bpftool
CC        ?= gcc
ARCH      := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)

# The BPF programs see the kernel's uapi headers and libbpf's, never glibc's:
# with -target bpf glibc's <gnu/stubs.h> wants the 32-bit stubs of
# libc6-dev-i386, so a libc header builds only on machines that happen to
# have that package.  -nostdlibinc drops /usr/include (clang keeps its own
# freestanding headers) and $(BPF_INC) offers linux/, asm/, asm-generic/ and
# bpf/ alone, so a glibc include fails here on every machine, not by luck.
BPF_INC   := $(BUILD)/bpf-include
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
	-nostdlibinc -Iinclude -Ibpf -isystem $(BPF_INC)
CFLAGS  ?= -O2 -g
comma := ,
empty :=
space := $(empty) $(empty)
CFLAGS  += -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers \
	-Iinclude -Iuser -I$(BUILD) -D_GNU_SOURCE
LDLIBS  := -lbpf -lelf -lz -lmnl -linih -ljson-c -lsystemd -lmicrohttpd -lpthread -lm -lsqlite3

BPF_SRC  := bpf/bascule.bpf.c
BPF_HDRS := $(wildcard bpf/lib/*.h) include/bascule.h
USER_HDRS := $(wildcard user/*/*.h) include/bascule.h $(BUILD)/bascule.skel.h

# ---- the controller's modules ------------------------------------------
# Each folder of user/ is a module and builds as its own static library,
# $(BUILD)/lib/libbsc_MODULE.a.  DEPS_m lists the modules m may use (and so
# include): the layering, checked by `make check-layers`
# (scripts/check-layers.sh: a module including one outside its closure, or a
# cycle, fails).  A program links the closure of what it uses, in this order.
MODULES := cli daemon metrics control report history dataplane config net probe health lib
DEPS_lib       :=
DEPS_health    := lib
DEPS_probe     := lib
DEPS_net       := lib
DEPS_config    := health probe lib
DEPS_dataplane := config health lib
DEPS_history   := lib
DEPS_report    := history config lib
DEPS_control   := dataplane health lib
DEPS_metrics   := dataplane health lib
DEPS_daemon    := metrics control history dataplane config net probe health lib
DEPS_cli       := daemon metrics control report history dataplane config net probe health lib

closure = $(sort $(1) $(foreach m,$(1),$(call closure,$(DEPS_$(m)))))
# the libraries of modules $(1) and all they use, in link order
mod_libs = $(patsubst %,$(BUILD)/lib/libbsc_%.a,$(filter $(call closure,$(1)),$(MODULES)))

define module_rules
$(1)_OBJ := $$(patsubst user/%.c,$$(BUILD)/user/%.o,$$(wildcard user/$(1)/*.c))
$$(BUILD)/lib/libbsc_$(1).a: $$($(1)_OBJ)
	@mkdir -p $$(@D)
	rm -f $$@ && $$(AR) rcs $$@ $$^
endef
$(foreach m,$(MODULES),$(eval $(call module_rules,$(m))))
USER_OBJ := $(foreach m,$(MODULES),$($(m)_OBJ))

TEST_BINS := $(BUILD)/tests/test_config $(BUILD)/tests/test_lib \
	$(BUILD)/tests/test_dataplane_unit $(BUILD)/tests/test_control $(BUILD)/tests/test_daemon \
	$(BUILD)/tests/test_dataplane $(BUILD)/tests/test_probe \
	$(BUILD)/tests/test_health $(BUILD)/tests/test_metrics $(BUILD)/tests/test_history
# what each test binary tests: it links those modules and what they use
TEST_MODS_test_config    := config
TEST_MODS_test_lib       := lib
TEST_MODS_test_dataplane_unit := dataplane
TEST_MODS_test_control   := control
TEST_MODS_test_daemon    := daemon
TEST_MODS_test_dataplane := dataplane
TEST_MODS_test_probe     := probe
TEST_MODS_test_health    := health
TEST_MODS_test_metrics   := metrics
TEST_MODS_test_history   := report
# every test binary: the shared cmocka runner; those that load the BPF
# object: the shared loader; the controller's unit tests: what they share
# (a configuration from text, the reference checksums, maps made by hand)
$(foreach t,$(TEST_BINS),$(eval TEST_OBJS_$(notdir $(t)) := $(BUILD)/tests/lib/runner.o))
TEST_OBJS_test_config    += $(BUILD)/tests/lib/unit.o
TEST_OBJS_test_lib       += $(BUILD)/tests/lib/csumref.o
TEST_OBJS_test_dataplane_unit += $(BUILD)/tests/lib/unit.o $(BUILD)/tests/lib/csumref.o \
	$(BUILD)/tests/lib/handmaps.o
TEST_OBJS_test_control   += $(BUILD)/tests/lib/unit.o
TEST_OBJS_test_daemon    += $(BUILD)/tests/lib/unit.o $(BUILD)/tests/lib/handmaps.o
TEST_OBJS_test_dataplane += $(BUILD)/tests/pktbuild.o $(BUILD)/tests/lib/bpfload.o \
	$(patsubst %,$(BUILD)/tests/dataplane/%.o,common rows_forward rows_icmp rows_drill \
		rows_hardening rows_classes flows)
TEST_OBJS_test_metrics   += $(BUILD)/tests/lib/bpfload.o

.PHONY: all deps test demo bench-failover install clean cleanroom soak check-layers
.DELETE_ON_ERROR:
.SECONDEXPANSION:

# everything `make test` needs: the controller, the unit tests, the fuzz
# targets, the bench and its programs, the link emulator, the slow disk
all: $(BUILD)/bascule $(TEST_BINS) check-layers fuzz-build bench-build $(BUILD)/linkemu \
	$(BUILD)/slowfs

$(BUILD)/bascule.bpf.o: $(BPF_SRC) $(BPF_HDRS) | $(BPF_INC)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BPF_INC): | $(BUILD)
	@mkdir -p $@.tmp
	ln -sfn /usr/include/linux $@.tmp/linux
	ln -sfn /usr/include/asm-generic $@.tmp/asm-generic
	ln -sfn /usr/include/$(MULTIARCH)/asm $@.tmp/asm
	ln -sfn /usr/include/bpf $@.tmp/bpf
	mv $@.tmp $@

$(BUILD)/bascule.skel.h: $(BUILD)/bascule.bpf.o
	$(BPFTOOL) gen skeleton $< name bascule_bpf > $@

$(BUILD)/user/%.o: user/%.c $(USER_HDRS) | $(BUILD)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

# unused shared libraries are not recorded (-Wl,--as-needed): a program
# depends on what its modules call
LINK = $(CC) $(CFLAGS) $(filter %.o,$^) $(filter %.a,$^) -o $@ -Wl,--as-needed $(LDLIBS)

$(BUILD)/bascule: $(call mod_libs,cli)
	$(LINK)

# the tests' own headers: an edit rebuilds what includes them
TEST_HDRS := $(wildcard tests/*.h tests/lib/*.h tests/dataplane/*.h)

$(BUILD)/tests/%.o: tests/%.c $(USER_HDRS) $(BPF_HDRS) $(TEST_HDRS) | $(BUILD)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Ibpf -c $< -o $@

# the data-plane rows' frames are a base (VIA_FIBER, TO_HOST...) with some
# fields overridden: in the files of those frames only (tests/dataplane/
# rows_*.c, and flows.c's tests), overriding an initializer is the idiom
$(patsubst %,$(BUILD)/tests/dataplane/%.o,rows_forward rows_icmp rows_drill rows_hardening rows_classes \
	flows): CFLAGS += -Wno-override-init

$(TEST_BINS): $(BUILD)/tests/%: $(BUILD)/tests/%.o $$(TEST_OBJS_$$*) $$(call mod_libs,$$(TEST_MODS_$$*))
	$(LINK) -lcmocka

check-layers:
	@scripts/check-layers.sh $(foreach m,$(MODULES),$(m):$(subst $(space),$(comma),$(strip $(DEPS_$(m)))))

$(BUILD):
	@mkdir -p $@

deps:
	@scripts/deps.sh

test: deps
	$(MAKE) all
	tests/run.sh

demo: deps
	$(MAKE) all
	scripts/demo.sh

# The README's two commands on a fresh Debian 12 root (debootstrap, chroot):
# what this machine has installed by hand cannot hide a missing step there.
cleanroom:
	BUILD=$(BUILD) scripts/cleanroom.sh

# Cut the fibre many times in the lab and print the measured cut-over.
bench-failover: deps
	$(MAKE) all
	scripts/bench-failover.sh

# ---- fuzz --------------------------------------------------------- begin
# `make fuzz`: libFuzzer targets (clang, with ASan and UBSan) for what the
# daemon parses: the configuration, probe specs, DNS, HTTP and SIP replies.
# FUZZ_SECONDS each (default 60); `make test` runs them for 10 s each.
.PHONY: fuzz fuzz-build
FUZZ_SECONDS ?= 60
FUZZ_SAN   := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS := -g -O1 -Wall -Iinclude -Iuser -I$(BUILD) -D_GNU_SOURCE
# what the targets parse (config, probe) and what those use, instrumented
FUZZ_SRC   := $(foreach m,$(call closure,config),$(wildcard user/$(m)/*.c))
FUZZ_OBJ   := $(FUZZ_SRC:user/%.c=$(BUILD)/fuzz/user/%.o)
FUZZ_BINS  := $(BUILD)/fuzz/fuzz_config $(BUILD)/fuzz/fuzz_probe

$(BUILD)/fuzz/user/%.o: user/%.c $(USER_HDRS) | $(BUILD)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(FUZZ_SAN) -c $< -o $@

$(BUILD)/fuzz/%: tests/fuzz/%.c $(FUZZ_OBJ) $(USER_HDRS)
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(FUZZ_SAN) $< $(FUZZ_OBJ) -o $@ \
		-linih -lsystemd -lbpf -lm

fuzz-build: $(FUZZ_BINS)

fuzz: deps
	$(MAKE) fuzz-build
	BUILD=$(BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh
# ---- fuzz ----------------------------------------------------------- end

# ---- bench (issue 5) --------------------------------------------- begin
# `make bench`: forwarding rate of Bascule, the kernel and a bare XDP
# redirect in the lab (scripts/bench.sh).  Objects go to $(BUILD)/bench/.
.PHONY: bench
BENCH_BPF := $(BUILD)/bench/gen.bpf.o $(BUILD)/bench/sink.bpf.o $(BUILD)/bench/limit.bpf.o \
	$(BUILD)/bench/drive.bpf.o

$(BUILD)/bench/%.bpf.o: tests/bench/%.bpf.c tests/bench/bench.h tests/bench/flowpkt.h \
		include/bascule.h | $(BPF_INC)
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -Itests/bench -c $< -o $@

# linked with the controller's objects: gcsweep times its flow sweep
$(BUILD)/bench/bench: tests/bench/bench.c tests/bench/bench.h $(USER_HDRS) $(call mod_libs,dataplane) | $(BUILD)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests/bench $< $(call mod_libs,dataplane) -o $@ -Wl,--as-needed $(LDLIBS)

.PHONY: bench-build
bench-build: $(BUILD)/bascule $(BUILD)/bench/bench $(BENCH_BPF)

bench: deps
	$(MAKE) bench-build
	scripts/bench.sh
# ---- bench (issue 5) ----------------------------------------------- end

# ---- linkemu (link emulator) ------------------------------------- begin
# $(BUILD)/linkemu: the lab's link emulator (tests/linkemu/, tests/linkemu_test.sh).
$(BUILD)/linkemu: $(wildcard tests/linkemu/*.c) | $(BUILD)
	$(CC) $(CFLAGS) $^ -o $@ -lbpf -lelf -lz -lm
# ---- linkemu (link emulator) --------------------------------------- end

# make soak: 100 cycles of failover, traffic, reloads and scrapes
# (tests/soak.sh) on the build, with its memory, descriptor and thread
# figures; then 20 on an AddressSanitizer build of the controller
# (build/asan), whose LeakSanitizer must find nothing at the exit.
# SOAK_CYCLES=N sets the first run's length.  `make test` runs 10.
SOAK_CYCLES ?= 100
soak: deps
	$(MAKE) all
	SOAK_CYCLES=$(SOAK_CYCLES) tests/soak.sh
	CFLAGS="-O1 -g -fsanitize=address -fno-omit-frame-pointer" $(MAKE) BUILD=$(BUILD)/asan $(BUILD)/asan/bascule
	SOAK_ASAN=1 SOAK_CYCLES=20 BASCULE=$(CURDIR)/$(BUILD)/asan/bascule tests/soak.sh

# $(BUILD)/slowfs: a slow disk for the lab (tests/tools/slowfs.c, FUSE 3):
# the history on it while writes and fsyncs are held (tests/hardening.sh).

$(BUILD)/slowfs: tests/tools/slowfs.c | $(BUILD)
	$(CC) $(CFLAGS) $$(pkg-config --cflags fuse3) $< -o $@ $$(pkg-config --libs fuse3)

# `make check-docs`: the man pages lint clean, the bash completion and the
# alerting rules pass their tests (tests/run.sh runs the same as suite docs).
.PHONY: check-docs
check-docs:
	mandoc -Tlint -W warning docs/man/bascule.8 docs/man/bascule.conf.5
	tests/completion_test.sh
	tests/prom_rules.sh

PREFIX ?= /usr/local
DESTDIR ?=
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= /usr/share/bash-completion/completions
install: $(BUILD)/bascule
	install -D -m 0755 $(BUILD)/bascule $(DESTDIR)$(PREFIX)/sbin/bascule
	install -D -m 0644 scripts/bascule.service $(DESTDIR)/etc/systemd/system/bascule.service
	install -D -m 0644 scripts/bascule-drill.service $(DESTDIR)/etc/systemd/system/bascule-drill.service
	install -D -m 0644 scripts/bascule-drill.timer $(DESTDIR)/etc/systemd/system/bascule-drill.timer
	install -D -m 0644 README.md $(DESTDIR)$(PREFIX)/share/doc/bascule/README.md
	install -d $(DESTDIR)$(PREFIX)/share/doc/bascule/docs
	install -m 0644 docs/*.md $(DESTDIR)$(PREFIX)/share/doc/bascule/docs/
	install -D -m 0644 docs/man/bascule.8 $(DESTDIR)$(MANDIR)/man8/bascule.8
	install -D -m 0644 docs/man/bascule.conf.5 $(DESTDIR)$(MANDIR)/man5/bascule.conf.5
	install -D -m 0644 scripts/completion/bascule.bash $(DESTDIR)$(BASHCOMPDIR)/bascule
	install -D -m 0644 scripts/prometheus/bascule.rules.yml \
		$(DESTDIR)$(PREFIX)/share/bascule/bascule.rules.yml
	test -e $(DESTDIR)/etc/bascule/bascule.conf || \
		install -D -m 0640 scripts/bascule.conf.example $(DESTDIR)/etc/bascule/bascule.conf

clean:
	rm -rf $(BUILD)
