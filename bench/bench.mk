# bench/bench.mk -- the benchmark's tools and the `bench` target.
#
# Included by the top-level Makefile (`include bench/bench.mk`, after
# BUILD and PROG are set: the end of the file is the safe place), or used
# beside it: `make -f Makefile -f bench/bench.mk bench`.  It relies on the
# top-level variables BUILD, PROG, CC, PKG_CFLAGS, WARN and the check-pkgs
# target.  Including it twice is harmless.
#
#   make bench                   build, then bench/run on a 10 MB corpus
#   make bench BENCH_SIZE=45M    another size (or a folder, or "real")
#   make bench/gen               just the corpus generator
#
# The tools are built with their own flags (no sanitizers: the extension is
# loaded into the system's sqlite3 shell, and the timings must be real).

ifndef BENCH_MK_INCLUDED
BENCH_MK_INCLUDED := 1

BENCH_SIZE   ?= 10M
BENCH_CFLAGS ?= -O2 -g
BENCH_DIR    = $(BUILD)/bench
BENCH_GEN    = $(BENCH_DIR)/gen
BENCH_TIMEIT = $(BENCH_DIR)/timeit
BENCH_EXT    = $(BENCH_DIR)/cnstok.so
BENCH_TOOLS  = $(BENCH_GEN) $(BENCH_TIMEIT) $(BENCH_EXT)

.PHONY: bench bench-tools bench/gen

bench/gen: $(BENCH_GEN)

bench-tools: $(PROG) $(BENCH_TOOLS)

$(BENCH_GEN): bench/gen.c
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) $(WARN) -std=c11 -D_GNU_SOURCE -o $@ $< -lm

$(BENCH_TIMEIT): bench/timeit.c
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) $(WARN) -std=c11 -D_GNU_SOURCE -o $@ $<

# The "cns" and "cnstri" tokenizers as a loadable extension for the sqlite3
# shell: the shim #includes core/mem.c, core/buf.c, core/tok.c and core/tri.c.
$(BENCH_EXT): bench/cnstok_ext.c core/tok.c core/tri.c core/buf.c core/mem.c include/cnsint.h include/cnsearch.h | check-pkgs
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) $(WARN) -std=c11 -D_GNU_SOURCE -Iinclude -I. $(PKG_CFLAGS) \
	  -fPIC -shared -fvisibility=hidden -o $@ $<

bench: bench-tools
	CNSEARCH=$(abspath $(PROG)) BENCH_BIN=$(abspath $(BENCH_DIR)) bench/run $(BENCH_SIZE)

endif
