# install.mk -- `make install` and `make uninstall`.
#
#   make install                     into /usr/local
#   make install PREFIX=$HOME/.local
#   make install DESTDIR=/tmp/pkg    staged, for packaging (files land in
#                                    /tmp/pkg/usr/local/...)
#   make uninstall                   removes exactly what install put there
#
# What goes where, under $(DESTDIR)$(PREFIX):
#
#   bin/cnsearch                                   the program
#   libexec/cnsearch/cnsearch-fetch                `cnsearch fetch` (libcurl, libxml2)
#   share/man/man1/cnsearch.1                      the manual page
#   share/bash-completion/completions/cnsearch     bash completion
#   share/zsh/site-functions/_cnsearch             zsh completion
#   share/fish/vendor_completions.d/cnsearch.fish  fish completion
#   share/cnsearch/...                             every file under editor/
#                                                  (Vim and Emacs front ends),
#                                                  sub-folders kept
#   share/doc/cnsearch/json.md                     the JSON output format
#
# Included by the Makefile, which defines PROG (the built program).
# INSTALL_BIN names the program to install; it defaults to PROG, which
# install builds first.  tests/cli/install.sh sets it to the program under
# test, which is installed as it is: installing then never starts a build.

ifndef CNS_INSTALL_MK
CNS_INSTALL_MK := 1

PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
LIBEXECDIR  := $(PREFIX)/libexec/cnsearch
DATADIR     ?= $(PREFIX)/share
MANDIR      ?= $(DATADIR)/man
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
ZSHCOMPDIR  ?= $(DATADIR)/zsh/site-functions
FISHCOMPDIR ?= $(DATADIR)/fish/vendor_completions.d
CNSDATADIR  := $(DATADIR)/cnsearch
DOCDIR      := $(DATADIR)/doc/cnsearch
INSTALL     ?= install
INSTALL_BIN ?= $(PROG)
INSTALL_FETCH ?= $(dir $(INSTALL_BIN))cnsearch-fetch

# Editor files, looked for only when a recipe needs them.
EDITOR_FILES = $(shell find editor -type f ! -name '.*' 2>/dev/null | LC_ALL=C sort)

# A newline, so that each editor file gets a recipe line of its own.
define cns_nl


endef

.PHONY: install uninstall

# Only PROG is built first: an INSTALL_BIN given from outside is taken as
# it is (as a prerequisite, make's built-in rules might try to relink it).
install: $(if $(filter $(PROG),$(INSTALL_BIN)),$(PROG))
	@test -f '$(INSTALL_BIN)' || { echo "install: no program '$(INSTALL_BIN)' to install" >&2; exit 1; }
	$(INSTALL) -d '$(DESTDIR)$(BINDIR)' '$(DESTDIR)$(MANDIR)/man1' \
	  '$(DESTDIR)$(BASHCOMPDIR)' '$(DESTDIR)$(ZSHCOMPDIR)' \
	  '$(DESTDIR)$(FISHCOMPDIR)' '$(DESTDIR)$(DOCDIR)'
	$(INSTALL) -m 755 '$(INSTALL_BIN)' '$(DESTDIR)$(BINDIR)/cnsearch'
	$(INSTALL) -d '$(DESTDIR)$(LIBEXECDIR)'
	$(INSTALL) -m 755 '$(INSTALL_FETCH)' '$(DESTDIR)$(LIBEXECDIR)/cnsearch-fetch'
	$(INSTALL) -m 644 doc/cnsearch.1 '$(DESTDIR)$(MANDIR)/man1/cnsearch.1'
	$(INSTALL) -m 644 completions/cnsearch.bash '$(DESTDIR)$(BASHCOMPDIR)/cnsearch'
	$(INSTALL) -m 644 completions/_cnsearch '$(DESTDIR)$(ZSHCOMPDIR)/_cnsearch'
	$(INSTALL) -m 644 completions/cnsearch.fish '$(DESTDIR)$(FISHCOMPDIR)/cnsearch.fish'
	$(INSTALL) -m 644 docs/json.md '$(DESTDIR)$(DOCDIR)/json.md'
	$(INSTALL) -d '$(DESTDIR)$(CNSDATADIR)' $(foreach d,$(filter-out ./,$(sort $(dir $(EDITOR_FILES:editor/%=%)))),'$(DESTDIR)$(CNSDATADIR)/$(d:%/=%)')
	$(foreach f,$(EDITOR_FILES),$(INSTALL) -m 644 '$(f)' '$(DESTDIR)$(CNSDATADIR)/$(f:editor/%=%)'$(cns_nl))

# share/cnsearch and share/doc/cnsearch (fixed names, not settable) belong
# to cnsearch alone, so they go whole, with any editor file renamed since
# the install; the shared folders above them stay.
uninstall:
	rm -f '$(DESTDIR)$(BINDIR)/cnsearch' \
	  '$(DESTDIR)$(MANDIR)/man1/cnsearch.1' \
	  '$(DESTDIR)$(BASHCOMPDIR)/cnsearch' \
	  '$(DESTDIR)$(ZSHCOMPDIR)/_cnsearch' \
	  '$(DESTDIR)$(FISHCOMPDIR)/cnsearch.fish'
	rm -rf '$(DESTDIR)$(CNSDATADIR)' '$(DESTDIR)$(DOCDIR)' '$(DESTDIR)$(LIBEXECDIR)'

endif
