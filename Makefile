# meldpunt - build, run and test.  GNU make; libraries found with pkg-config.

CC      ?= cc
BUILD   ?= build
PKGS     = libsodium sqlcipher libmicrohttpd jansson gnutls libseccomp
# The unit tests also check the QR encoder against libqrencode.
TESTPKGS = libqrencode
CLIPKGS  = libsodium sqlcipher jansson libcurl
# Debian packages: to build and run (make), and to test as well (make test, make deps).
BUILDDEBS = make gcc pkg-config libsodium-dev libsqlcipher-dev libmicrohttpd-dev \
           libgnutls28-dev libjansson-dev libcurl4-openssl-dev libseccomp-dev
TESTDEBS = libqrencode-dev zbar-tools librsvg2-bin curl tzdata python3 clang \
           libclang-rt-14-dev faketime openssl golang-go golang-golang-x-mod-dev sqlcipher \
           chromium groff-base systemd slowhttptest iproute2 clang-format
DEBS     = $(BUILDDEBS) $(TESTDEBS)
PREFIX  ?= /usr/local

WARN     = -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes \
           -Wmissing-prototypes
HARDEN   = -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
CFLAGS  ?= -O2 -g
ALLCFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(HARDEN) $(CFLAGS) -Iinclude \
           $(shell pkg-config --cflags $(PKGS) libcurl 2>/dev/null)
LDHARDEN = -pie -Wl,-z,relro,-z,now
LIBS     = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread
CLILIBS  = $(shell pkg-config --libs $(CLIPKGS) 2>/dev/null)
TESTLIBS = $(shell pkg-config --libs $(TESTPKGS) 2>/dev/null)

CRYPTO_SRC = $(wildcard crypto/*.c)
STORE_SRC  = $(wildcard store/*.c)
STATS_SRC  = $(wildcard stats/*.c)
SERVER_SRC = $(wildcard server/*.c)
CLI_SRC    = $(wildcard cli/*.c)
EMBED_SRC  = $(BUILD)/embed.c

CRYPTO_OBJ = $(CRYPTO_SRC:%.c=$(BUILD)/%.o)
STORE_OBJ  = $(STORE_SRC:%.c=$(BUILD)/%.o) $(BUILD)/embed.o
STATS_OBJ  = $(STATS_SRC:%.c=$(BUILD)/%.o)
SERVER_OBJ = $(SERVER_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ    = $(CLI_SRC:%.c=$(BUILD)/%.o)
LIB        = $(BUILD)/libmeldpunt.a

UNIT_SRC   = $(wildcard tests/unit/*.c)
UNIT_BIN   = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
API_SRC    = $(wildcard tests/api/*.c)
API_BIN    = $(BUILD)/tests/api_test

# Fuzzing: every parser has a libFuzzer harness in tests/fuzz/ (clang).
FUZZ_SRC   = $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN   = $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_LIBSRC = $(CRYPTO_SRC) $(STORE_SRC) $(STATS_SRC) $(filter-out server/main.c,$(SERVER_SRC))
FUZZ_OBJ   = $(FUZZ_LIBSRC:%.c=$(BUILD)/fuzzobj/%.o) $(BUILD)/fuzzobj/embed.o
# The command-line tool's parsers too (fuzz_cli), from an archive: only what a harness uses.
FUZZ_CLILIB = $(BUILD)/fuzzobj/libcli.a
FUZZCC     = clang
FUZZFLAGS  = -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer-no-link,address,undefined \
             -fno-sanitize-recover=undefined \
             -Iinclude $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
FUZZ_SECONDS ?= 60

.PHONY: FORCE all build-deps deps run install test test-long check clean asan valgrind fuzz bench scan \
        format
# Keep intermediate objects, so make test ends with its own summary line.
.SECONDARY:
all: build-deps $(BUILD)/meldpuntd $(BUILD)/meldpunt

# Only what is missing is installed (tests/deps.sh): nothing when all is there.
build-deps:
	@sh tests/deps.sh $(BUILDDEBS)

deps:
	@sh tests/deps.sh $(DEBS)

# Policy, schema, the pages' texts and files travel inside the binaries, so
# an instance needs no source tree: init writes the policy out for the
# municipality to edit.
EMBED_FILES = $(sort $(wildcard schema/*.sql)) $(sort $(wildcard policy/ui/*.conf)) \
              $(sort $(wildcard server/static/*))
$(BUILD)/embed.c: tools/embed.sh policy/policy.conf $(EMBED_FILES)
	@mkdir -p $(@D)
	sh tools/embed.sh policy/policy.conf $(EMBED_FILES) > $@.tmp && mv $@.tmp $@

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) -MMD -MP -c -o $@ $<

# The build's version for --version: the commit it was built from (git describe),
# rewritten only when it changes, so that only the two main.o follow.  Where git
# cannot tell (no .git; root in a tree it does not own, as in sudo make install)
# a version made before stays.
$(BUILD)/version.h: FORCE
	@mkdir -p $(@D)
	@v=$$(git -c safe.directory="$(CURDIR)" describe --always --dirty 2>/dev/null); \
	if [ -z "$$v" ] && [ -f $@ ]; then exit 0; fi; \
	printf '#define MP_BUILD_VERSION "%s"\n' "$${v:-unknown}" > $@.tmp; \
	if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi
FORCE:
$(BUILD)/server/main.o $(BUILD)/cli/main.o: $(BUILD)/version.h
$(BUILD)/server/main.o $(BUILD)/cli/main.o: ALLCFLAGS += -I$(BUILD)

$(LIB): $(CRYPTO_OBJ) $(STORE_OBJ) $(STATS_OBJ) $(filter-out $(BUILD)/server/main.o,$(SERVER_OBJ))
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/meldpuntd: $(BUILD)/server/main.o $(LIB)
	$(CC) $(LDHARDEN) -o $@ $^ $(LIBS)

$(BUILD)/meldpunt: $(CLI_OBJ) $(LIB)
	$(CC) $(LDHARDEN) -o $@ $^ $(LIBS) $(CLILIBS)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDHARDEN) -o $@ $^ $(LIBS) $(TESTLIBS)

$(API_BIN): $(API_SRC:%.c=$(BUILD)/%.o) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDHARDEN) -o $@ $^ $(LIBS) $(CLILIBS)

# make run: a demo instance under ./var/ and the server on 127.0.0.1:8080
# (DEMO_LISTEN=ADDRESS:PORT for another).
run: all
	@sh tests/deps.sh curl
	@DEMO_LISTEN="$(DEMO_LISTEN)" sh tools/demo.sh $(BUILD)

# make install: the two programs and their manual pages under PREFIX (/usr/local).
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/man/man8
	install -m 755 $(BUILD)/meldpuntd $(BUILD)/meldpunt $(DESTDIR)$(PREFIX)/bin/
	install -m 644 man/meldpunt.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 man/meldpuntd.8 $(DESTDIR)$(PREFIX)/share/man/man8/

$(BUILD)/fuzzobj/embed.o: $(BUILD)/embed.c
	@mkdir -p $(@D)
	$(FUZZCC) $(FUZZFLAGS) -c -o $@ $<

$(BUILD)/fuzzobj/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZCC) $(FUZZFLAGS) -MMD -MP -c -o $@ $<

$(FUZZ_CLILIB): $(patsubst %.c,$(BUILD)/fuzzobj/%.o,$(filter-out cli/main.c,$(CLI_SRC)))
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/fuzz/%: tests/fuzz/%.c $(wildcard tests/fuzz/*.h) $(FUZZ_OBJ) $(FUZZ_CLILIB)
	@mkdir -p $(@D)
	$(FUZZCC) $(FUZZFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJ) $(FUZZ_CLILIB) $(LIBS)

# make fuzz: each harness for FUZZ_SECONDS (default 60) on its seeds.
fuzz: deps $(FUZZ_BIN)
	@sh tests/fuzz/run.sh $(BUILD) time $(FUZZ_SECONDS)

test: deps all $(UNIT_BIN) $(API_BIN) $(FUZZ_BIN)
	@sh tests/run.sh $(BUILD)

# make test-long: meldpuntd killed with SIGKILL under load 100 times
# (tests/crash/test_crash.sh; make test runs it 3 times).
test-long: all
	@CYCLES=100 sh tests/crash/test_crash.sh $(BUILD)

check: test

# make bench: figures, not tests (nothing here passes or fails on time);
# docs/BENCH.md.  BENCH_SECONDS, BENCH_CONNS, BENCH_CASES, ... from the environment.
bench: all
	@sh tests/deps.sh wrk time valgrind
	@sh tests/bench/run.sh $(BUILD)

# make scan: wapiti and sqlmap against a fresh instance on loopback; not part
# of make test (it takes tens of minutes).  docs/SCAN.md; SCAN_* from the environment.
scan: all
	@sh tests/deps.sh sqlmap wapiti python3-cryptography sqlcipher
	@sh tests/scan/run.sh $(BUILD)

asan:
	$(MAKE) BUILD=build-asan CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer" \
		LDHARDEN="-fsanitize=address,undefined" test

# make valgrind: the API tests with every meldpuntd process under memcheck; fails on any
# memcheck error or leak in them (tests/valgrind/run.sh, docs/FUZZING.md).
valgrind: all $(API_BIN)
	@sh tests/deps.sh valgrind
	@sh tests/valgrind/run.sh $(BUILD)

# make format: the C files git tracks, rewritten with .clang-format (make test
# checks that they are: tests/style/test_format.sh).
format:
	@sh tests/deps.sh clang-format
	git ls-files '*.c' '*.h' | xargs clang-format -i

clean:
	rm -rf build build-asan

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
