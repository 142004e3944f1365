# Fuzzing, included by the top Makefile.
#
#   make fuzz [FUZZ_SECONDS=60] [FUZZ_TARGETS="ws http"]
#	libFuzzer (clang) on every parser that sees outside bytes, each for
#	FUZZ_SECONDS, from the seeds in tests/fuzz/seeds/<target>/; a crash
#	input is copied into tests/fuzz/regress/<target>/ and make fails.
#   make fuzz-replay	(part of make check, before the integration tests)
#	every seed and regression input through each target, built with $(CC)
#	and the usual flags (so SANITIZE=1 applies) and a plain main().
#   To reproduce or minimise one input:
#	make fuzz-build && tests/fuzz/build/fuzz_ws tests/fuzz/regress/ws/FILE
#	tests/fuzz/build/fuzz_ws -minimize_crash=1 -runs=10000 FILE
#   Seeds are written by tests/fuzz/mkseeds.py (checked in, rerun it after
#   changing it).

FUZZ_SECONDS	?= 60
FUZZ_CC		?= clang
FUZZ_DIR	 = tests/fuzz
# every tests/fuzz/fuzz_<target>.c is a target
FUZZ_TARGETS	?= $(sort $(patsubst $(FUZZ_DIR)/fuzz_%.c,%,\
		   $(wildcard $(FUZZ_DIR)/fuzz_*.c)))
FUZZ_OUT	 = $(FUZZ_DIR)/build
FUZZ_SAN	 = -fsanitize=address,undefined -fno-sanitize-recover=undefined \
		   -fno-omit-frame-pointer
FUZZ_CFLAGS	 = -std=c11 -g -O1 $(WARN) $(DEFS) -Isrc -I$(FUZZ_DIR) \
		   $(shell $(PKG_CONFIG) --cflags libconfig openssl)
FUZZ_LIBS	 = $(shell $(PKG_CONFIG) --libs libconfig libcrypto) \
		   $(shell $(PKG_CONFIG) --silence-errors --libs zlib)
FUZZ_PURE	 = $(PURE_SRCS) $(CONF_SRCS)
FUZZ_OBJS	 = $(FUZZ_PURE:src/%.c=$(FUZZ_OUT)/obj/%.o)
FUZZ_BINS	 = $(FUZZ_TARGETS:%=$(FUZZ_OUT)/fuzz_%)
REPLAY_BINS	 = $(FUZZ_TARGETS:%=$(FUZZ_OUT)/replay_%)

.PHONY: fuzz fuzz-build fuzz-replay fuzz-clean

# libFuzzer builds: their own objects, never mixed with the daemon's.
$(FUZZ_OUT)/obj/%.o: src/%.c | deps
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link \
	    -c -o $@ $<

$(FUZZ_OUT)/fuzz_%: $(FUZZ_DIR)/fuzz_%.c $(FUZZ_DIR)/fuzz.h $(FUZZ_OBJS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ \
	    $(FUZZ_DIR)/fuzz_$*.c $(FUZZ_OBJS) $(FUZZ_LIBS)

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	@FUZZ_SECONDS=$(FUZZ_SECONDS) sh $(FUZZ_DIR)/run.sh $(FUZZ_TARGETS)

# Replay builds: the daemon's compiler, flags and pure objects.
$(FUZZ_OUT)/replay_%: $(FUZZ_DIR)/fuzz_%.c $(FUZZ_DIR)/replay.c \
    $(FUZZ_DIR)/fuzz.h $(PURE_OBJS) .build-flags | deps
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -I$(FUZZ_DIR) -o $@ $(FUZZ_DIR)/fuzz_$*.c \
	    $(FUZZ_DIR)/replay.c $(PURE_OBJS) $(ALL_LDFLAGS) $(FUZZ_LIBS)

fuzz-replay: $(REPLAY_BINS)
	@set -e; for t in $(FUZZ_TARGETS); do \
	    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	    LSAN_OPTIONS=suppressions=$(CURDIR)/$(FUZZ_DIR)/lsan.supp \
	    ./$(FUZZ_OUT)/replay_$$t $$(for d in seeds regress; do \
	    test -d $(FUZZ_DIR)/$$d/$$t && echo $(FUZZ_DIR)/$$d/$$t; done); \
	done

fuzz-clean:
	rm -rf $(FUZZ_OUT)

clean: fuzz-clean
