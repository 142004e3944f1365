# wsgate -- plain GNU make; no autotools.
#
#   make            build wsgated (and the test backends)
#   make check      build and run every test (unit, then integration)
#   make demo       run wsgated on 127.0.0.1:8080 with an echo backend
#   make install    PREFIX, DESTDIR, SYSCONFDIR honoured
#
# Missing Debian packages are installed by tests/deps.sh (as root), or it
# prints the apt-get command to run and stops.

PROG		 = wsgated
VERSION		 = 0.1.0

PREFIX		?= /usr/local
SYSCONFDIR	?= /etc
SBINDIR		?= $(PREFIX)/sbin
MANDIR		?= $(PREFIX)/share/man
# Where systemd looks for system units; /lib/systemd/system without it.
SYSTEMDUNITDIR	?= $(or $(shell $(PKG_CONFIG) --variable=systemdsystemunitdir \
		   systemd 2>/dev/null),/lib/systemd/system)
PKG_CONFIG	?= pkg-config
PYTHON		?= /usr/bin/python3

CFLAGS		?= -O2 -g
WARN		 = -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes \
		   -Wmissing-declarations -Wshadow -Wpointer-arith \
		   -Wsign-compare -Wcast-qual
PKGS		 = libevent_core libevent_openssl libevent_pthreads openssl libconfig \
		   libsystemd zlib
CHECK_PKGS	 = check

ifeq ($(SANITIZE),1)
SAN		 = -fsanitize=address,undefined -fno-omit-frame-pointer
endif

DEFS		 = -D_GNU_SOURCE -DWSGATE_VERSION='"$(VERSION)"' \
		   -DWSGATE_SYSCONFDIR='"$(SYSCONFDIR)"'
# Recursively expanded on purpose: pkg-config runs after tests/deps.sh.
ALL_CFLAGS	 = -std=c11 $(WARN) $(DEFS) -Isrc $(SAN) -MMD -MP \
		   $(shell $(PKG_CONFIG) --cflags $(PKGS)) $(CPPFLAGS) $(CFLAGS)
ALL_LDFLAGS	 = $(SAN) $(LDFLAGS)
LDADD		 = $(shell $(PKG_CONFIG) --libs $(PKGS))

# Pure codecs: no sockets, no libevent; unit-tested in isolation.
PURE_SRCS	 = src/utf8.c src/ws.c src/framing.c src/http.c src/sni.c \
		   src/tickets.c \
		   src/preamble.c src/deflate.c
# conf.c holds libconfig; the I/O glue holds libevent.
CONF_SRCS	 = src/conf.c
IO_SRCS		 = src/wsgated.c src/log.c src/worker.c src/listener.c \
		   src/conn.c src/backend.c src/relay.c src/metrics.c \
		   src/tls.c src/proxy.c
SRCS		 = $(PURE_SRCS) $(CONF_SRCS) $(IO_SRCS)
OBJS		 = $(SRCS:.c=.o)
PURE_OBJS	 = $(PURE_SRCS:.c=.o) $(CONF_SRCS:.c=.o)

UNIT		 = utf8 ws framing http conf sni preamble deflate tickets
UNIT_BINS	 = $(UNIT:%=tests/unit/check_%)
BACKENDS	 = tests/backends/echo-backend
# wsbench, the backend `make bench` puts behind the gateways, and the
# WebSocket echo server it runs alone and behind nginx (bench/).
BENCH_BINS	 = bench/wsbench bench/bench-backend bench/ws-echo

MAN		 = man/wsgated.8 man/wsgated.conf.5

.PHONY: all deps check unit integration conformance demo install uninstall clean FORCE \
		   bench lint

all: $(PROG) $(BACKENDS) $(BENCH_BINS)

deps:
	@sh tests/deps.sh build

# Rebuild everything when the flags change (SANITIZE=1, CC=clang, ...).
.build-flags: FORCE | deps
	@echo '$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS)' | cmp -s - $@ || \
	    echo '$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS)' > $@

$(OBJS) $(UNIT_BINS) $(BACKENDS): .build-flags
$(BENCH_BINS): .build-flags

$(PROG): $(OBJS)
	$(CC) $(ALL_LDFLAGS) -o $@ $(OBJS) $(LDADD)

%.o: %.c | deps
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

tests/backends/echo-backend: tests/backends/echo-backend.c | deps
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< \
	    $(shell $(PKG_CONFIG) --libs libevent_core)

# wsbench reuses the pure codecs (ws.c, http.c's accept key).
bench/wsbench: bench/wsbench.c bench/pattern.h $(PURE_OBJS) | deps
	$(CC) $(ALL_CFLAGS) -o $@ bench/wsbench.c $(PURE_OBJS) $(ALL_LDFLAGS) \
	    $(LDADD) -lm

bench/bench-backend: bench/bench-backend.c bench/pattern.h | deps
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ bench/bench-backend.c

bench/ws-echo: bench/ws-echo.c | deps
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ bench/ws-echo.c \
	    $(shell $(PKG_CONFIG) --libs libcrypto)

# wsgated against a direct WebSocket echo, nginx, websockify and
# websocketd (BENCH_QUICK=1: about a minute).
bench: $(PROG) $(BENCH_BINS)
	$(PYTHON) bench/run.py

# One Check binary per pure module; check_main.c runs the suite it is
# built for (-DSUITE=<module>_suite).
tests/unit/check_%: tests/unit/check_%.c tests/unit/check_main.c $(PURE_OBJS) | deps
	$(CC) $(ALL_CFLAGS) $(shell $(PKG_CONFIG) --cflags $(CHECK_PKGS)) \
	    -DSUITE=$*_suite -o $@ tests/unit/check_$*.c tests/unit/check_main.c \
	    $(PURE_OBJS) $(ALL_LDFLAGS) $(shell $(PKG_CONFIG) --libs $(CHECK_PKGS)) \
	    $(shell $(PKG_CONFIG) --libs libconfig libcrypto zlib)

check: unit fuzz-replay integration conformance

unit: $(UNIT_BINS)
	@sh tests/deps.sh check
	@set -e; for t in $(UNIT_BINS); do \
	    CK_VERBOSITY=$${CK_VERBOSITY:-normal} ./$$t; done

integration: $(PROG) $(BACKENDS) $(BENCH_BINS)
	@sh tests/deps.sh check
	WSGATED=$(CURDIR)/$(PROG) ECHO_BACKEND=$(CURDIR)/tests/backends/echo-backend \
	    $(PYTHON) tests/integration/run.py $(TESTS)

# RFC 6455 / RFC 7692 cases after Autobahn|Testsuite; a table per category.
conformance: $(PROG) $(BACKENDS)
	@sh tests/deps.sh check
	WSGATED=$(CURDIR)/$(PROG) ECHO_BACKEND=$(CURDIR)/tests/backends/echo-backend \
	    $(PYTHON) tests/conformance/run.py $(CASES)

# Static checks over every source in src/, configured by .clang-tidy and
# tests/lint/cppcheck.supp; warning-free or it fails.
LINT_SRCS	 = $(wildcard src/*.c)
LINT_CFLAGS	 = $(filter-out -MMD -MP,$(ALL_CFLAGS))
lint: | deps
	cppcheck --quiet --error-exitcode=1 --std=c11 --inline-suppr \
	    --enable=warning,style,performance,portability \
	    --suppressions-list=tests/lint/cppcheck.supp \
	    $(foreach h,sys/queue.h sys/time.h,--include=$(firstword \
	    $(wildcard /usr/include/*/$(h) /usr/include/$(h)))) \
	    -D_GNU_SOURCE -D__USE_MISC -Isrc $(LINT_SRCS)
	clang-tidy --quiet $(LINT_SRCS) -- $(LINT_CFLAGS)

demo: $(PROG) $(BACKENDS)
	@sh tests/demo.sh

# The units name the installed paths: SBINDIR and SYSCONFDIR are
# written into wsgated.service.  The config is installed only if there is
# none; uninstall removes it only if it is still the shipped example.
install: $(PROG)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(SYSCONFDIR)/wsgate \
	    $(DESTDIR)$(SYSTEMDUNITDIR)
	install -m 755 $(PROG) $(DESTDIR)$(SBINDIR)/$(PROG)
	install -m 644 man/wsgated.8 $(DESTDIR)$(MANDIR)/man8/wsgated.8
	install -m 644 man/wsgated.conf.5 $(DESTDIR)$(MANDIR)/man5/wsgated.conf.5
	test -e $(DESTDIR)$(SYSCONFDIR)/wsgate/wsgated.conf || \
	    install -m 644 conf/wsgated.conf $(DESTDIR)$(SYSCONFDIR)/wsgate/wsgated.conf
	sed -e 's|/usr/local/sbin/wsgated|$(SBINDIR)/wsgated|g' \
	    -e 's|/etc/wsgate/|$(SYSCONFDIR)/wsgate/|g' systemd/wsgated.service \
	    > $(DESTDIR)$(SYSTEMDUNITDIR)/wsgated.service.tmp
	install -m 644 $(DESTDIR)$(SYSTEMDUNITDIR)/wsgated.service.tmp \
	    $(DESTDIR)$(SYSTEMDUNITDIR)/wsgated.service
	rm -f $(DESTDIR)$(SYSTEMDUNITDIR)/wsgated.service.tmp
	install -m 644 systemd/wsgated.socket $(DESTDIR)$(SYSTEMDUNITDIR)/wsgated.socket

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/$(PROG) $(DESTDIR)$(MANDIR)/man8/wsgated.8 \
	    $(DESTDIR)$(MANDIR)/man5/wsgated.conf.5 \
	    $(DESTDIR)$(SYSTEMDUNITDIR)/wsgated.service \
	    $(DESTDIR)$(SYSTEMDUNITDIR)/wsgated.socket
	! cmp -s conf/wsgated.conf $(DESTDIR)$(SYSCONFDIR)/wsgate/wsgated.conf || \
	    rm -f $(DESTDIR)$(SYSCONFDIR)/wsgate/wsgated.conf
	rmdir $(DESTDIR)$(SYSCONFDIR)/wsgate 2>/dev/null || true

clean:
	rm -f $(PROG) $(OBJS) $(OBJS:.o=.d) $(UNIT_BINS) $(BACKENDS) \
	    tests/unit/*.d tests/backends/*.d .build-flags
	rm -f $(BENCH_BINS) bench/*.d

include tests/fuzz/fuzz.mk
include tests/soak/soak.mk

-include $(OBJS:.o=.d)
