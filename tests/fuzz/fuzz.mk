# fuzz.mk -- libFuzzer targets for the pure parsers (tests/fuzz/fuzz_*.c).
#
#   make fuzz                   build every target, run each FUZZ_SECONDS (60)
#   make fuzz FUZZ_SECONDS=600  longer
#   make fuzz-md                one target (fuzz-qparse, fuzz-snippet)
#   make fuzz-build             only build them, into $(FUZZ_BUILD)
#
# Targets are built with clang and -fsanitize=fuzzer,address,undefined;
# the runtime comes from Debian's libclang-rt-14-dev, installed through
# tests/deps.sh when missing.  Each target links only the files it tests
# (plus core/buf.c and core/mem.c; qparse also core/tok.c for the "cns"
# tokenizer) against the system sqlite3 and md4c.  Seeds live in
# tests/fuzz/seeds/<target>/ and are never written; the growing corpus,
# crash artifacts and logs go to $(FUZZ_BUILD).  A run that finds a crash
# stops and fails, leaving the input in $(FUZZ_BUILD)/artifacts/.
#
# Included from the Makefile; `make -f Makefile -f tests/fuzz/fuzz.mk fuzz`
# also works (the guard keeps a second inclusion harmless).
ifndef CNS_FUZZ_MK
CNS_FUZZ_MK := 1

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_BUILD   ?= build/fuzz
FUZZ_JOBS    ?= 1
FUZZ_ARGS    ?=
FUZZ_TARGETS := md qparse snippet
FUZZ_DEBS    := clang libclang-rt-14-dev pkg-config libsqlite3-dev libmd4c-dev
FUZZ_CFLAGS  := -O1 -g -std=c11 -D_GNU_SOURCE -Iinclude -I. \
                -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
                -fno-omit-frame-pointer -Wall -Wextra -Wno-unused-parameter
FUZZ_LIBS     = $(shell pkg-config --cflags --libs sqlite3 md4c 2>/dev/null) -lm
FUZZ_CORE    := core/buf.c core/mem.c

FUZZ_SRC_md      := indexer/md.c $(FUZZ_CORE)
FUZZ_SRC_qparse  := query/qparse.c core/tok.c $(FUZZ_CORE)
FUZZ_SRC_snippet := query/snippet.c $(FUZZ_CORE)
FUZZ_BINS := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)

.PHONY: fuzz fuzz-build fuzz-deps $(FUZZ_TARGETS:%=fuzz-%)

fuzz-deps:
	@sh tests/deps.sh $(FUZZ_DEBS)

fuzz-build: fuzz-deps
	@$(MAKE) --no-print-directory $(FUZZ_BINS)

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c include/cnsearch.h include/cnsint.h \
                      $$(FUZZ_SRC_$$*)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_SRC_$*) $(FUZZ_LIBS)

# Run one target: a private corpus grown from the seeds, a dictionary when
# there is one, crash inputs kept in artifacts/.
fuzz-%: fuzz-deps
	@$(MAKE) --no-print-directory $(FUZZ_BUILD)/fuzz_$*
	@mkdir -p $(FUZZ_BUILD)/corpus/$* $(FUZZ_BUILD)/artifacts
	$(FUZZ_BUILD)/fuzz_$* -max_total_time=$(FUZZ_SECONDS) \
	  -artifact_prefix=$(FUZZ_BUILD)/artifacts/$*- -print_final_stats=1 \
	  -jobs=$(FUZZ_JOBS) -workers=$(FUZZ_JOBS) \
	  $(if $(wildcard tests/fuzz/$*.dict),-dict=tests/fuzz/$*.dict) $(FUZZ_ARGS) \
	  $(FUZZ_BUILD)/corpus/$* tests/fuzz/seeds/$*

fuzz: fuzz-deps
	@$(MAKE) --no-print-directory $(FUZZ_BINS)
	@for t in $(FUZZ_TARGETS); do \
	  $(MAKE) --no-print-directory fuzz-$$t || exit 1; done

endif
