# Makefile for clsmtpc and clsmtpd.
#   make            build build/clsmtpc (and the core library, unit tests)
#   make check      build, then run every unit and integration test; the last
#                   line is "N passed, N failed"
#   make unit       only the unit tests (no root, no fixtures), in seconds
#   make asan       the same tests on an ASan+UBSan build in build/asan
#   make demo       install dependencies, build, send a mail through a
#                   throwaway submission server on loopback and show it
# Sources are found by wildcard: a new file in a folder of src/core (one
# folder per layer, docs/architecture.md) is part of libcore.

BUILD    ?= build
CC       ?= cc
PKGS     := openssl libgsasl libidn2
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
OPTFLAGS ?= -O2 -g
CFLAGS   ?=
override CFLAGS += $(OPTFLAGS) -std=c17 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes -Wformat=2 -D_GNU_SOURCE \
            -Isrc/core $(PKG_CFLAGS)
override LDLIBS += $(PKG_LIBS)
# clsmtpd alone: the Public Suffix List (DMARC's organizational domains).
SERVER_LIBS := $(shell pkg-config --libs libpsl 2>/dev/null)
ifeq ($(SANITIZE),1)
override CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
override LDFLAGS += -fsanitize=address,undefined
endif

CORE_SRC   := $(sort $(wildcard src/core/*/*.c))
CLIENT_SRC := $(sort $(wildcard src/client/*.c))
SERVER_SRC := $(sort $(wildcard src/server/*.c))
CUNIT_SRC  := $(sort $(wildcard tests/unit/core/test_*.c))
LUNIT_SRC  := $(sort $(wildcard tests/unit/client/test_*.c))
SUNIT_SRC  := $(sort $(wildcard tests/unit/server/test_*.c))
HELPER_SRC := $(sort $(wildcard tests/helpers/*.c))

CORE_OBJ   := $(CORE_SRC:%.c=$(BUILD)/obj/%.o)
CLIENT_OBJ := $(CLIENT_SRC:%.c=$(BUILD)/obj/%.o)
SERVER_OBJ := $(SERVER_SRC:%.c=$(BUILD)/obj/%.o)
CUNIT_BIN  := $(CUNIT_SRC:tests/unit/core/%.c=$(BUILD)/tests/%)
LUNIT_BIN  := $(LUNIT_SRC:tests/unit/client/%.c=$(BUILD)/tests/%)
SUNIT_BIN  := $(SUNIT_SRC:tests/unit/server/%.c=$(BUILD)/tests/%)
UNIT_BIN   := $(CUNIT_BIN) $(LUNIT_BIN) $(SUNIT_BIN)
HELPER_BIN := $(HELPER_SRC:tests/helpers/%.c=$(BUILD)/tests/%)
LIBCORE    := $(BUILD)/libclsmtp-core.a

PROGRAMS := $(BUILD)/clsmtpc
ifneq ($(SERVER_SRC),)
PROGRAMS += $(BUILD)/clsmtpd $(BUILD)/clsmtpd-passwd
endif

.PHONY: all check unit asan demo deps bench clean format lint install fuzz deb deb-check
all: $(PROGRAMS) $(UNIT_BIN) $(HELPER_BIN)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(LIBCORE): $(CORE_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/clsmtpc: $(CLIENT_OBJ) $(LIBCORE)
	$(CC) $(LDFLAGS) -o $@ $(CLIENT_OBJ) $(LIBCORE) $(LDLIBS)

$(BUILD)/clsmtpd: $(SERVER_OBJ) $(LIBCORE)
	$(CC) $(LDFLAGS) -o $@ $(SERVER_OBJ) $(LIBCORE) $(LDLIBS) $(SERVER_LIBS)

# clsmtpd chooses its users-file mode by the name it is called by.
$(BUILD)/clsmtpd-passwd: $(BUILD)/clsmtpd
	ln -sf clsmtpd $@

# tests/unit mirrors src: a core unit test is linked with the core library
# only; a client one with every client object but main.o; a server one with
# every server object but main.o.
$(BUILD)/tests/%: tests/unit/core/%.c tests/unit/check.h $(LIBCORE)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(LIBCORE) $(LDLIBS)

CLIENT_LIB_OBJ := $(filter-out $(BUILD)/obj/src/client/main.o,$(CLIENT_OBJ))
$(BUILD)/tests/%: tests/unit/client/%.c tests/unit/check.h $(CLIENT_LIB_OBJ) $(LIBCORE)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit -Isrc/client $(LDFLAGS) -o $@ $< $(CLIENT_LIB_OBJ) $(LIBCORE) $(LDLIBS)

SERVER_LIB_OBJ := $(filter-out $(BUILD)/obj/src/server/main.o,$(SERVER_OBJ))
$(BUILD)/tests/%: tests/unit/server/%.c tests/unit/check.h $(SERVER_LIB_OBJ) $(LIBCORE)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit -Isrc/server $(LDFLAGS) -o $@ $< $(SERVER_LIB_OBJ) $(LIBCORE) $(LDLIBS) $(SERVER_LIBS)

$(BUILD)/tests/%: tests/helpers/%.c $(LIBCORE)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBCORE) $(LDLIBS)

deps:
	@scripts/install-deps.sh

check: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) tests/run-tests.sh

# Only the unit tests: no root, no fixture, no network; seconds.
unit:
	@$(MAKE) --no-print-directory $(UNIT_BIN)
	@BUILD=$(BUILD) UNIT_ONLY=1 tests/run-tests.sh

asan:
	@$(MAKE) --no-print-directory BUILD=build/asan SANITIZE=1 OPTFLAGS="-O1 -g" check

demo: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) scripts/demo.sh

# libFuzzer harnesses (tests/fuzz/), each run for FUZZ_SECONDS; see docs/security.md.
FUZZ_SECONDS ?= 20
fuzz: deps
	@FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh

# The layer rule of src/core (scripts/layers.sh), then cppcheck and clang-tidy
# over src/, zero findings (scripts/lint.sh).
lint: deps
	@scripts/layers.sh
	@scripts/lint.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) bench/run.sh

PREFIX  ?= /usr/local
DESTDIR ?=
install: $(PROGRAMS)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin \
		$(DESTDIR)$(PREFIX)/share/clsmtpc $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 755 $(BUILD)/clsmtpc $(DESTDIR)$(PREFIX)/bin/clsmtpc
	install -m 644 data/providers.conf $(DESTDIR)$(PREFIX)/share/clsmtpc/providers.conf
	install -m 755 data/clsmtpc-oauth2-token $(DESTDIR)$(PREFIX)/share/clsmtpc/clsmtpc-oauth2-token
	install -m 644 man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 man/*.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	if [ -x $(BUILD)/clsmtpd ]; then \
		install -m 755 $(BUILD)/clsmtpd $(DESTDIR)$(PREFIX)/sbin/clsmtpd && \
		ln -sf clsmtpd $(DESTDIR)$(PREFIX)/sbin/clsmtpd-passwd && \
		install -m 644 man/*.8 $(DESTDIR)$(PREFIX)/share/man/man8/; fi

# Debian packages (debian/, docs/packaging.md): clsmtpc, clsmtpc-mta and
# clsmtpd in $(DEB_OUT); the version is version.h's, which debian/changelog
# must repeat (scripts/version-check.sh fails the build otherwise).
# deb-check builds them, runs lintian, installs, runs, upgrades and purges
# them (tests/package/run.sh; root, a machine without another MTA).
DEB_OUT ?= build/deb
deb:
	@DEB_OUT=$(DEB_OUT) scripts/build-deb.sh

deb-check: deps
	@DEB_OUT=$(DEB_OUT) tests/package/run.sh

format:
	clang-format -i $(CORE_SRC) $(CLIENT_SRC) $(SERVER_SRC) src/*/*.h src/core/*/*.h $(CUNIT_SRC) $(LUNIT_SRC) $(SUNIT_SRC) tests/unit/*.h

clean:
	rm -rf build

-include $(CORE_OBJ:.o=.d) $(CLIENT_OBJ:.o=.d) $(SERVER_OBJ:.o=.d)
