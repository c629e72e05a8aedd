# casebot: a plain Makefile.
#
#   make            install missing Debian packages, build build/casebot
#                   (build/casebot-test, for tests only, also lets
#                   $CASEBOT_TEST_NOW set the clock)
#   make test       build and run every test; last line "N passed, N failed"
#   make asan       the same tests under AddressSanitizer + UBSan (build-asan/)
#   make run        set up a demo data directory and run the main job
#   make deps       install missing Debian packages (apt-get) and the browser
#                   tests' npm packages (npm ci), no-op otherwise
#   make check      casebot check on the example configuration
#   make fuzz       every parser's libFuzzer target, FUZZ_SECONDS each (clang)
#   make crash      100 kill -9 of casebot run under load, one line of figures
#   make install    the binary, catalogs, systemd unit, sysusers.d and
#                   tmpfiles.d lines and example configuration under
#                   PREFIX (/usr/local), staged in DESTDIR when set
#
# Top-level targets first make sure the packages are there, then call this
# Makefile again with CASEBOT_DEPS_OK=1, so that pkg-config runs only once the
# libraries exist.

DEBS = pkg-config libuv1-dev libcurl4-openssl-dev libcjson-dev libsqlite3-dev \
       libh2o-dev libinih-dev libsodium-dev libcmocka-dev libmagic-dev \
       libutf8proc-dev sqlite3 tzdata python3-aiosmtpd liboath-dev libqrencode-dev \
       chromium libsystemd-dev libespeak-ng-dev espeak-ng-data libopusenc-dev \
       libopusfile-dev libical-dev python3-icalendar libssl-dev libarchive-dev
PKGS = libuv libcurl libcjson sqlite3 libh2o inih libsodium libmagic libutf8proc liboath libqrencode \
       libsystemd espeak-ng libopusenc opusfile libical libssl libcrypto libarchive

BUILD ?= build
SANITIZE ?=

ifeq ($(CASEBOT_DEPS_OK),)

.PHONY: all test asan run check bench fuzz crash install clean deps
all test asan run check bench fuzz crash install: deps
	@$(MAKE) --no-print-directory CASEBOT_DEPS_OK=1 $@

deps:
	@missing=""; \
	for p in $(DEBS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null || exit 1; \
	fi; \
	if [ ! -d tests/browser/node_modules ]; then \
	  echo "installing: playwright-core (npm ci in tests/browser)"; \
	  (cd tests/browser && npm ci --no-audit --no-fund --silent) || exit 1; \
	fi

clean:
	rm -rf build build-asan

# Any other target (one test binary, say: make build/tests/test_router)
# goes through the same door. The Makefile itself is never remade.
Makefile: ;
%: deps
	@$(MAKE) --no-print-directory CASEBOT_DEPS_OK=1 $@

else

CC ?= cc
OPT ?= -O2
CPPFLAGS_ALL = -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -I. \
               $(shell pkg-config --cflags $(PKGS) cmocka)
CFLAGS_ALL = -std=c11 -Wall -Wextra -Werror -g $(OPT) $(CPPFLAGS_ALL) $(CFLAGS)
LDLIBS_ALL = $(shell pkg-config --libs $(PKGS)) -lm
ifneq ($(SANITIZE),)
CFLAGS_ALL += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

# bot/clock.c is built twice, outside the library: as it is for
# build/casebot, with -DCASEBOT_TEST_CLOCK for build/casebot-test and the
# tests, the only binaries where $CASEBOT_TEST_NOW moves the clock.
# bot/ is the daemon core; its subfolders (gateways/, cli/, net/) are
# picked up by the same wildcard, so a new file in one of them needs no
# line here.
LIB_SRC  = $(filter-out bot/main.c bot/clock.c,$(wildcard bot/*.c bot/*/*.c)) $(wildcard handlers/*.c) \
           $(wildcard locales/*.c) $(wildcard store/*.c)
LIB_OBJ  = $(LIB_SRC:%.c=$(BUILD)/%.o)
TEST_SRC = $(wildcard tests/test_*.c)
TEST_BIN = $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
TSUP_SRC = $(wildcard tests/support/*.c)
TSUP_OBJ = $(TSUP_SRC:%.c=$(BUILD)/%.o)
# The simulators: a generic core (sim_*.c) and one front end per gateway.
SIMCORE_OBJ = $(patsubst %.c,$(BUILD)/%.o,$(wildcard tests/sim/sim_*.c))
TGSIM_OBJ   = $(patsubst %.c,$(BUILD)/%.o,$(wildcard tests/sim/tgsim*.c))
WASIM_OBJ   = $(patsubst %.c,$(BUILD)/%.o,$(wildcard tests/sim/wasim*.c))
SMSIM_OBJ   = $(patsubst %.c,$(BUILD)/%.o,$(wildcard tests/sim/smsim*.c))
SIM_OBJ     = $(patsubst %.c,$(BUILD)/%.o,$(wildcard tests/sim/*.c))

.PHONY: all test asan run check bench fuzz-bins crash install FORCE
# Keep object files make considers intermediate, so nothing rebuilds twice.
.SECONDARY:
all: $(BUILD)/casebot

# A change of compiler flags rebuilds everything.
$(BUILD)/.flags: FORCE
	@mkdir -p $(BUILD)
	@echo '$(CC) $(CFLAGS_ALL) $(LDFLAGS) $(LDLIBS_ALL)' | cmp -s - $@ || \
	  echo '$(CC) $(CFLAGS_ALL) $(LDFLAGS) $(LDLIBS_ALL)' > $@

# Only the tests are told where the source tree's catalogs are: casebot
# finds its own at run time (bot/config.c), installed or in the tree.
$(BUILD)/tests/%.o: private TEST_DEFS = -DCASEBOT_LOCALES_DIR='"$(CURDIR)/locales"'

$(BUILD)/%.o: %.c $(BUILD)/.flags
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS_ALL) $(TEST_DEFS) -MMD -MP -c $< -o $@

$(BUILD)/libcasebot.a: $(LIB_OBJ)
	@rm -f $@
	@ar rcs $@ $^

$(BUILD)/bot/clock-test.o: bot/clock.c $(BUILD)/.flags
	@mkdir -p $(dir $@)
	@echo "  CC      $< (test clock)"
	@$(CC) $(CFLAGS_ALL) -DCASEBOT_TEST_CLOCK -MMD -MP -c $< -o $@

$(BUILD)/casebot: $(BUILD)/bot/main.o $(BUILD)/bot/clock.o $(BUILD)/libcasebot.a
	@echo "  LINK    $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_ALL)

$(BUILD)/casebot-test: $(BUILD)/bot/main.o $(BUILD)/bot/clock-test.o $(BUILD)/libcasebot.a
	@echo "  LINK    $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_ALL)

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(TSUP_OBJ) $(BUILD)/bot/clock-test.o $(BUILD)/libcasebot.a
	@echo "  LINK    $@"
	@$(CC) $(LDFLAGS) -Wl,--wrap=_cmocka_run_group_tests -o $@ $^ $(LDLIBS_ALL) $(shell pkg-config --libs cmocka)

# The Telegram Bot API simulator the integration tests and the demo talk to.
$(BUILD)/tgsim: $(TGSIM_OBJ) $(SIMCORE_OBJ) $(BUILD)/libcasebot.a
	@echo "  LINK    $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_ALL)

# The WhatsApp Cloud API simulator, on the same core.
$(BUILD)/wasim: $(WASIM_OBJ) $(SIMCORE_OBJ) $(BUILD)/libcasebot.a
	@echo "  LINK    $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_ALL)

# The Twilio Messaging API simulator, on the same core.
$(BUILD)/smsim: $(SMSIM_OBJ) $(SIMCORE_OBJ) $(BUILD)/libcasebot.a
	@echo "  LINK    $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_ALL)

test: $(BUILD)/casebot $(BUILD)/casebot-test $(BUILD)/tgsim $(BUILD)/wasim $(BUILD)/smsim $(TEST_BIN)
	@tests/run.sh $(BUILD)

asan:
	@CASEBOT_TEST_JOBS=$${CASEBOT_TEST_JOBS:-1} $(MAKE) --no-print-directory BUILD=build-asan SANITIZE=1 OPT=-O1 test

run: $(BUILD)/casebot $(BUILD)/tgsim
	@tests/demo.sh $(BUILD)

check: $(BUILD)/casebot
	$(BUILD)/casebot -c casebot.conf.example check

# make install: casebot finds the catalogs in ../share/casebot/locales
# from its own place at run time, so PREFIX is not compiled in. The unit,
# sysusers.d and tmpfiles.d files go where systemd reads them under PREFIX
# (/usr/local/lib/systemd/system is on its path); the configuration lives
# in SYSCONFDIR/casebot (/etc/casebot), written only when it is not there.
PREFIX ?= /usr/local
SYSCONFDIR ?= /etc
BINDIR = $(PREFIX)/bin
DATADIR = $(PREFIX)/share/casebot
DOCDIR = $(PREFIX)/share/doc/casebot
UNITDIR = $(PREFIX)/lib/systemd/system
PKG_SUBST = sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@DOCDIR@|$(DOCDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g'
install: $(BUILD)/casebot
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/locales $(DESTDIR)$(DOCDIR) $(DESTDIR)$(UNITDIR) \
	  $(DESTDIR)$(PREFIX)/lib/sysusers.d $(DESTDIR)$(PREFIX)/lib/tmpfiles.d $(DESTDIR)$(SYSCONFDIR)/casebot
	install -m 0755 $(BUILD)/casebot $(DESTDIR)$(BINDIR)/casebot
	install -m 0644 locales/*.json $(DESTDIR)$(DATADIR)/locales/
	$(PKG_SUBST) packaging/casebot.service > $(DESTDIR)$(UNITDIR)/casebot.service
	$(PKG_SUBST) packaging/casebot.tmpfiles > $(DESTDIR)$(PREFIX)/lib/tmpfiles.d/casebot.conf
	chmod 0644 $(DESTDIR)$(UNITDIR)/casebot.service $(DESTDIR)$(PREFIX)/lib/tmpfiles.d/casebot.conf
	install -m 0644 packaging/casebot.sysusers $(DESTDIR)$(PREFIX)/lib/sysusers.d/casebot.conf
	install -m 0644 casebot.conf.example README.md $(DESTDIR)$(DOCDIR)/
	[ -e $(DESTDIR)$(SYSCONFDIR)/casebot/casebot.conf ] || \
	  install -m 0644 packaging/casebot.conf $(DESTDIR)$(SYSCONFDIR)/casebot/casebot.conf

$(BUILD)/bench: $(BUILD)/tests/bench/bench.o $(TSUP_OBJ) $(BUILD)/bot/clock-test.o $(BUILD)/libcasebot.a
	@echo "  LINK    $@"
	@$(CC) $(LDFLAGS) -Wl,--wrap=_cmocka_run_group_tests -o $@ $^ $(LDLIBS_ALL) $(shell pkg-config --libs cmocka)

# 100 kill -9 of casebot run while tgsim feeds it (make test runs 10):
# one line of figures, and the goals checked (tests/test_crash.c).
crash: $(BUILD)/casebot $(BUILD)/tgsim $(BUILD)/tests/test_crash
	@CASEBOT_BUILD=$(BUILD) CASEBOT_CRASH_KILLS=$${CASEBOT_CRASH_KILLS:-100} $(BUILD)/tests/test_crash

bench: $(BUILD)/casebot $(BUILD)/tgsim $(BUILD)/bench
	@$(BUILD)/bench $(BENCH_ARGS)

# The parsers' libFuzzer targets, one per line of tests/fuzz/targets.h
# (tests/fuzz_<name>.c, its seeds in tests/data/fuzz/<name>/). make fuzz
# builds the library and each target with clang (libFuzzer is clang's),
# ASan and UBSan in build-fuzz/, and runs them one after the other for
# FUZZ_SECONDS each (FUZZ_TARGETS="router config" for some only); what
# they find new goes to build-fuzz/corpus/<name>, not into tests/data.
# Without clang it says so and does nothing. make test replays every
# corpus through the same entry points, built with $(CC) into
# test_fuzz_corpus.
FUZZ_TARGETS ?= $(shell sed -n 's/^TARGET(\([a-z0-9_]*\))$$/\1/p' tests/fuzz/targets.h)
FUZZ_SECONDS ?= 60
FUZZ_BUILD = build-fuzz
FUZZ_REPLAY_OBJ = $(FUZZ_TARGETS:%=$(BUILD)/tests/fuzz_%.replay.o)
fuzz:
	@if ! command -v clang >/dev/null 2>&1; then \
	  echo "fuzz: skipped, clang is not installed (libFuzzer comes with clang)"; exit 0; \
	fi; \
	$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=clang SANITIZE=1 OPT=-O1 \
	  CFLAGS=-fsanitize=fuzzer-no-link fuzz-bins || exit 1; \
	for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_BUILD)/corpus/$$t && echo "  FUZZ    $$t ($(FUZZ_SECONDS) s)" && \
	  $(FUZZ_BUILD)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    -artifact_prefix=$(FUZZ_BUILD)/crash-$$t- $(FUZZ_BUILD)/corpus/$$t tests/data/fuzz/$$t || exit 1; \
	done

fuzz-bins: $(FUZZ_TARGETS:%=$(BUILD)/fuzz_%)

$(BUILD)/fuzz_%: $(BUILD)/tests/fuzz_%.o $(BUILD)/bot/clock-test.o $(BUILD)/libcasebot.a
	@echo "  LINK    $@"
	@$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS_ALL)

$(BUILD)/tests/fuzz_%.replay.o: tests/fuzz_%.c $(BUILD)/.flags
	@mkdir -p $(dir $@)
	@echo "  CC      $< (replay)"
	@$(CC) $(CFLAGS_ALL) $(TEST_DEFS) -DLLVMFuzzerTestOneInput=fuzz_$*_one -DLLVMFuzzerInitialize=fuzz_$*_init \
	  -MMD -MP -c $< -o $@

$(BUILD)/tests/test_fuzz_corpus: $(FUZZ_REPLAY_OBJ)

-include $(FUZZ_REPLAY_OBJ:.o=.d) $(LIB_OBJ:.o=.d) $(BUILD)/bot/main.d $(BUILD)/bot/clock.d $(BUILD)/bot/clock-test.d $(TEST_BIN:=.d) $(TSUP_OBJ:.o=.d) $(SIM_OBJ:.o=.d) \
	$(BUILD)/tests/bench/bench.d

endif
