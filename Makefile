# cnsearch -- build, test, demo.
#
#   make            build ./cnsearch
#   make demo       install missing packages, index corpus/, search "MoE"
#   make test       install missing packages, build, run every test
#   make test SANITIZE=1   the same under AddressSanitizer + UBSan
#
# Dependencies come from pkg-config; `make deps` installs the Debian
# packages that provide them (through sudo when not root) and says so.

# The search program links only the first three; cnsearch-fetch (the
# `fetch` command) also libcurl and libxml2, which take longer to load than
# a search takes to run (cli/fetch_stub.c).
CORE_PKGS := sqlite3 libpcre2-8 md4c libzstd
PKGS      := $(CORE_PKGS) libcurl libxml-2.0
DEB_PKGS  := pkg-config libsqlite3-dev libpcre2-dev libmd4c-dev libzstd-dev libcurl4-openssl-dev libxml2-dev
# What the tests drive besides the program itself.
TEST_DEBS := sqlite3 python3 ripgrep jq mandoc zsh fish vim-nox emacs-nox neovim strace

CC       ?= cc
CFLAGS   ?= -O2 -g
WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter
CPPFLAGS += -D_GNU_SOURCE -Iinclude -I.
CORE_LIBS := $(shell pkg-config --libs $(CORE_PKGS) 2>/dev/null) -lpthread -lm
# The search program is one process per query: resolving the shared
# libraries' symbols at each start cost 0.3-0.5 ms of a 4 ms search
# (bench/README.md).  So it links the static archives the Debian -dev
# packages ship (sqlite3, pcre2, zstd; md4c has none), found through
# pkg-config.  LINK=shared links the shared libraries instead.
LINK     ?= static
ifeq ($(LINK),static)
LIBDIR   := $(shell pkg-config --variable=libdir sqlite3 2>/dev/null)
lib_a     = $(if $(wildcard $(LIBDIR)/lib$(1).a),$(LIBDIR)/lib$(1).a,-l$(1))
SEARCH_LIBS := $(foreach l,sqlite3 pcre2-8 zstd md4c,$(call lib_a,$(l))) \
  $(filter-out -lsqlite3 -lpcre2-8 -lzstd -lmd4c,$(shell pkg-config --static --libs $(CORE_PKGS) 2>/dev/null)) \
  -ldl -lpthread -lm
else
SEARCH_LIBS := $(CORE_LIBS)
endif
LDLIBS   += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)

ifeq ($(SANITIZE),1)
BUILD    ?= build/asan
CFLAGS   := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS  += -fsanitize=address,undefined
else
BUILD    ?= build/release
endif

FETCH_LIB_SRC := indexer/fetch.c indexer/html.c
LIB_SRC  := $(filter-out $(FETCH_LIB_SRC),$(wildcard core/*.c indexer/*.c query/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
FETCH_LIB_OBJ := $(FETCH_LIB_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
# `make BUILD=build/mine` builds ./build/mine/cnsearch and leaves ./cnsearch alone.
PROG     ?= $(if $(filter 1,$(SANITIZE)),$(BUILD)/cnsearch,$(if $(filter build/release,$(BUILD)),cnsearch,$(BUILD)/cnsearch))

.PHONY: all deps test test-valgrind demo clean unit

all: $(PROG)

$(BUILD)/%.o: %.c include/cnsearch.h include/cnsint.h cli/cli.h | check-pkgs
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) $(WARN) -std=c11 -c $< -o $@

$(BUILD)/libcns.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libcnsfetch.a: $(FETCH_LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

CLI_SRC  := cnsearch.c $(filter-out cli/fetch.c cli/fetch_stub.c,$(wildcard cli/*.c))
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
FETCH_PROG := $(dir $(PROG))cnsearch-fetch

$(PROG): $(CLI_OBJ) $(BUILD)/cli/fetch_stub.o $(BUILD)/libcns.a | $(FETCH_PROG)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/cli/fetch_stub.o $(BUILD)/libcns.a $(SEARCH_LIBS)

$(FETCH_PROG): $(CLI_OBJ) $(BUILD)/cli/fetch.o $(BUILD)/libcnsfetch.a $(BUILD)/libcns.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c tests/unit/check.h $(BUILD)/libcnsfetch.a $(BUILD)/libcns.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) $(WARN) -std=c11 $(LDFLAGS) -o $@ $< $(BUILD)/libcnsfetch.a $(BUILD)/libcns.a $(LDLIBS)

unit: $(UNIT_BIN)

# Fail early, saying which Debian packages provide what is missing.
.PHONY: check-pkgs
check-pkgs:
	@pkg-config --exists $(PKGS) 2>/dev/null || { \
	  echo "cnsearch: missing build dependencies ($(PKGS)); run 'make deps' or: apt-get install $(DEB_PKGS)" >&2; exit 1; }

deps:
	@sh tests/deps.sh $(DEB_PKGS) $(DEPS_EXTRA)

test:
	@$(MAKE) --no-print-directory deps DEPS_EXTRA="$(TEST_DEBS)"
	@$(MAKE) --no-print-directory $(PROG) unit
	@CNSEARCH_BIN=$(abspath $(PROG)) UNIT_DIR=$(abspath $(BUILD)/tests) sh tests/run.sh

# The CLI tests whose programs are quick enough to run under valgrind
# memcheck (the sanitizer build covers everything else).
VALGRIND_TESTS ?= search
test-valgrind:
	@$(MAKE) --no-print-directory deps DEPS_EXTRA="$(TEST_DEBS) valgrind"
	@$(MAKE) --no-print-directory $(PROG) unit
	@CNSEARCH_REAL_BIN=$(abspath $(PROG)) CNSEARCH_BIN=$(abspath tests/valgrind.sh) \
	  UNIT_DIR=/nonexistent ONLY=$(VALGRIND_TESTS) sh tests/run.sh

demo:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory $(PROG)
	@rm -rf build/demo && mkdir -p build/demo
	./$(PROG) -C corpus --index build/demo/index.db index
	./$(PROG) -C corpus --index build/demo/index.db --color=always -n 10 MoE

clean:
	rm -rf build cnsearch cnsearch-fetch

# Benchmarks, ranking evaluation, fuzzing and installation live beside the
# things they serve.
-include bench/bench.mk bench/eval.mk tests/fuzz/fuzz.mk mk/install.mk
