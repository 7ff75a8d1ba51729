# fuzz.mk -- libFuzzer targets for the pure parsers (tests/fuzz/fuzz_*.c).
#
#   make fuzz                   build every target, run each FUZZ_SECONDS (60)
#   make fuzz FUZZ_SECONDS=600  longer
#   make fuzz-md                one target (fuzz-qparse, fuzz-snippet, fuzz-regex)
#   make fuzz-build             only build them, into $(FUZZ_BUILD)
#
# Targets are built with clang and -fsanitize=fuzzer,address,undefined;
# the runtime comes from Debian's libclang-rt-14-dev, installed through
# tests/deps.sh when missing.  Each target links only the files it tests
# (plus core/buf.c and core/mem.c; qparse also core/tok.c for the "cns"
# tokenizer; regex core/zip.c, and core/tri.c and core/tok.c for the
# regex index's "cnstri") against the system sqlite3, md4c, PCRE2 and
# zstd.  Seeds live in
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
FUZZ_ARGS    ?=
FUZZ_TARGETS := md qparse snippet regex
FUZZ_DEBS    := clang libclang-rt-14-dev pkg-config libsqlite3-dev libmd4c-dev \
                libpcre2-dev libzstd-dev
FUZZ_CFLAGS  := -O1 -g -std=c11 -D_GNU_SOURCE -Iinclude -I. \
                -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
                -fno-omit-frame-pointer -Wall -Wextra -Wno-unused-parameter
FUZZ_LIBS     = $(shell pkg-config --cflags --libs sqlite3 md4c libpcre2-8 libzstd 2>/dev/null) -lm
FUZZ_CORE    := core/buf.c core/mem.c

FUZZ_SRC_md      := indexer/md.c $(FUZZ_CORE)
FUZZ_SRC_qparse  := query/qparse.c core/tok.c $(FUZZ_CORE)
FUZZ_SRC_snippet := query/snippet.c $(FUZZ_CORE)
FUZZ_SRC_regex   := query/regex.c core/zip.c core/tri.c core/tok.c \
                    $(FUZZ_CORE)
FUZZ_BINS := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)

.PHONY: fuzz fuzz-build fuzz-deps $(FUZZ_TARGETS:%=fuzz-%)

fuzz-deps:
	@sh tests/deps.sh $(FUZZ_DEBS)

fuzz-build: fuzz-deps
	@$(MAKE) --no-print-directory $(FUZZ_BINS)

# Per target: the binary, and a run on a private corpus grown from the
# seeds, with a dictionary when there is one and crash inputs kept in
# artifacts/.
define FUZZ_RULES
$(FUZZ_BUILD)/fuzz_$(1): tests/fuzz/fuzz_$(1).c include/cnsearch.h include/cnsint.h $(FUZZ_SRC_$(1))
	@mkdir -p $(FUZZ_BUILD)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $$@ tests/fuzz/fuzz_$(1).c $(FUZZ_SRC_$(1)) $(FUZZ_LIBS)

fuzz-$(1): fuzz-deps
	@$(MAKE) --no-print-directory $(FUZZ_BUILD)/fuzz_$(1)
	@mkdir -p $(FUZZ_BUILD)/corpus/$(1) $(FUZZ_BUILD)/artifacts
	$(FUZZ_BUILD)/fuzz_$(1) -max_total_time=$(FUZZ_SECONDS) \
	  -artifact_prefix=$(FUZZ_BUILD)/artifacts/$(1)- -print_final_stats=1 \
	  $(if $(wildcard tests/fuzz/$(1).dict),-dict=tests/fuzz/$(1).dict) $(FUZZ_ARGS) \
	  $(FUZZ_BUILD)/corpus/$(1) tests/fuzz/seeds/$(1)
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call FUZZ_RULES,$(t))))

fuzz: fuzz-deps
	@$(MAKE) --no-print-directory $(FUZZ_BINS)
	@for t in $(FUZZ_TARGETS); do \
	  $(MAKE) --no-print-directory fuzz-$$t || exit 1; done

endif
