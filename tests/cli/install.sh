#!/bin/sh
# install.sh -- `make install` and `make uninstall` into a temporary
# DESTDIR, the man page's lint, and the one-source-of-truth rule: every
# option and command that `cnsearch --help` prints, every field the query
# parser knows and every variable the CLI reads must be in the man page
# and in each completion file.  (The man page and completions may say
# more than --help: they may document what is being built.)
#
# The program installed is the one under test ($BIN), as it is, so this
# never starts a build.  zsh and fish are checked only when installed.
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1

MAN=doc/cnsearch.1
BASHC=completions/cnsearch.bash
ZSHC=completions/_cnsearch
FISHC=completions/cnsearch.fish

# make, without what the `make test` that runs us passed down to it.
mk() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory -C "$ROOT" "$@"; }

# ---- install and uninstall ------------------------------------------------

# expected_files PREFIX: what install must put under DESTDIR, sorted.
expected_files() {
  {
    echo "$1/bin/cnsearch"
    echo "$1/libexec/cnsearch/cnsearch-fetch"
    echo "$1/share/man/man1/cnsearch.1"
    echo "$1/share/bash-completion/completions/cnsearch"
    echo "$1/share/zsh/site-functions/_cnsearch"
    echo "$1/share/fish/vendor_completions.d/cnsearch.fish"
    echo "$1/share/doc/cnsearch/json.md"
    find editor -type f ! -name '.*' 2>/dev/null | sed "s|^editor/|$1/share/cnsearch/|"
  } | LC_ALL=C sort
}

# source_of PREFIX INSTALLED-PATH: the file in the tree it was copied from.
source_of() {
  case $2 in
  "$1/bin/cnsearch") echo "$BIN" ;;
  */cnsearch-fetch) echo "$(dirname "$BIN")/cnsearch-fetch" ;;
  */man1/cnsearch.1) echo "$MAN" ;;
  */completions/cnsearch) echo "$BASHC" ;;
  */_cnsearch) echo "$ZSHC" ;;
  */cnsearch.fish) echo "$FISHC" ;;
  */doc/cnsearch/json.md) echo docs/json.md ;;
  "$1/share/cnsearch/"*) echo "editor/${2#"$1/share/cnsearch/"}" ;;
  esac
}

DEST=$TMP/dest
run mk install DESTDIR="$DEST" INSTALL_BIN="$BIN"
expect_rc 0 "make install DESTDIR=..."
got=$(cd "$DEST" && find . -type f | sed 's|^\.||' | LC_ALL=C sort)
want=$(expected_files /usr/local)
expect_eq "$got" "$want" "files installed under DESTDIR with the default PREFIX"
for f in $want; do
  src=$(source_of /usr/local "$f")
  if cmp -s "$src" "$DEST$f"; then pass; else fail "installed $f differs from $src"; fi
done
[ -x "$DEST/usr/local/bin/cnsearch" ] && pass || fail "installed program is not executable"
for f in $want; do
  case $f in */bin/*|*/libexec/*) continue ;; esac
  [ -x "$DEST$f" ] && fail "$f is installed executable" || pass
done
"$DEST/usr/local/bin/cnsearch" -C "$ROOT/corpus" --index "$TMP/fetch-probe.db" -q index
run "$DEST/usr/local/bin/cnsearch" -C "$ROOT/corpus" --index "$TMP/fetch-probe.db" fetch --failed
expect_rc 0 "the installed cnsearch finds cnsearch-fetch in libexec"
run "$DEST/usr/local/bin/cnsearch" --version
expect_rc 0 "installed cnsearch --version"
expect_match "$OUT" '^cnsearch [0-9]+\.[0-9]+' "installed cnsearch --version output"

if command -v man >/dev/null 2>&1; then
  run env MANPAGER=cat PAGER=cat MANWIDTH=80 man -M "$DEST/usr/local/share/man" cnsearch
  expect_rc 0 "man finds the installed page"
  expect_match "$OUT" 'QUERY LANGUAGE' "installed man page renders"
fi
run bash -c '. "$1"; complete -p cnsearch' sh "$DEST/usr/local/share/bash-completion/completions/cnsearch"
expect_eq "$OUT" "complete -F _cnsearch cnsearch" "installed bash completion registers itself"

run mk uninstall DESTDIR="$DEST"
expect_rc 0 "make uninstall DESTDIR=..."
expect_eq "$(find "$DEST" -type f)" "" "uninstall leaves no file behind"
[ -e "$DEST/usr/local/share/cnsearch" ] && fail "uninstall leaves share/cnsearch/" || pass
[ -e "$DEST/usr/local/share/doc/cnsearch" ] && fail "uninstall leaves share/doc/cnsearch/" || pass

# PREFIX is honoured, and uninstall with the same PREFIX undoes it.
DEST2=$TMP/dest2
run mk install DESTDIR="$DEST2" PREFIX=/opt/cns INSTALL_BIN="$BIN"
expect_rc 0 "make install PREFIX=/opt/cns"
got=$(cd "$DEST2" && find . -type f | sed 's|^\.||' | LC_ALL=C sort)
expect_eq "$got" "$(expected_files /opt/cns)" "files installed under PREFIX=/opt/cns"
run mk uninstall DESTDIR="$DEST2" PREFIX=/opt/cns
expect_rc 0 "make uninstall PREFIX=/opt/cns"
expect_eq "$(find "$DEST2" -type f)" "" "uninstall with PREFIX leaves no file behind"

# ---- the man page renders cleanly ------------------------------------------

if command -v mandoc >/dev/null 2>&1; then
  run mandoc -T lint -W warning "$MAN"
  expect_rc 0 "mandoc -T lint"
  expect_eq "$OUT$ERR" "" "mandoc -T lint -W warning says nothing"
else
  fail "mandoc is not installed (apt-get install mandoc); cannot lint $MAN"
fi
if command -v groff >/dev/null 2>&1; then
  run groff -ww -man -z "$MAN"
  expect_rc 0 "groff -ww -man -z"
  expect_eq "$OUT$ERR" "" "groff -ww -man -z says nothing"
fi
if command -v man >/dev/null 2>&1; then
  run env MANPAGER=cat PAGER=cat MANWIDTH=80 man -l "$MAN"
  expect_rc 0 "man -l $MAN"
  expect_eq "$ERR" "" "man -l $MAN writes nothing on stderr"
fi
for s in NAME SYNOPSIS DESCRIPTION COMMANDS OPTIONS 'QUERY LANGUAGE' OUTPUT \
  'EXIT STATUS' ENVIRONMENT FILES EXAMPLES 'SEE ALSO'; do
  grep -q "^\.SH \"*$s\"*\$" "$MAN" && pass || fail "$MAN has no section '$s'"
done

# ---- one source of truth ---------------------------------------------------

# What --help prints: long options, short options, command names.
run "$BIN" --help
expect_rc 0 "cnsearch --help"
HELP=$OUT
opt_lines=$(printf '%s\n' "$HELP" | sed -n '/^options:/,/^$/p')
LONGS=$(printf '%s\n' "$opt_lines" | grep -oE '^ +(-[A-Za-z0-9], +)?--[a-z0-9][-a-z0-9]*' | sed 's/.*--/--/')
SHORTS=$(printf '%s\n' "$opt_lines" | grep -oE '^ +-[A-Za-z0-9],' | tr -d ' ,')
# Commands: the usage lines of --help and cnsearch.c's command table.
COMMANDS=$({
  printf '%s\n' "$HELP" | grep -oE 'cnsearch \[OPTIONS\] [a-z][a-z0-9-]*' | awk '{print $3}'
  sed -n '/commands\[\] *= *{/,/^};/p' cnsearch.c | grep -oE '^ *\{"[a-z][a-z0-9-]*"' | tr -d ' {"'
} | LC_ALL=C sort -u)
[ "$(printf '%s\n' "$LONGS" | grep -c .)" -ge 10 ] && pass || fail "found too few long options in --help: $LONGS"
[ -n "$COMMANDS" ] && pass || fail "found no command names in --help"

# The query fields: the parser's table (query/qparse.c) and the link
# filters.  If the table's layout changes, the fixed list still applies.
FIELDS=$({
  grep -oE '^ *\{"[a-z][a-z-]*", K_' query/qparse.c | sed 's/^ *{"//; s/".*//'
  printf '%s\n' title heading link body tag path url after before links-to linked-from
} | LC_ALL=C sort -u)

# Variables the command line reads.
ENVS=$(grep -ohE 'getenv\("[A-Za-z_][A-Za-z0-9_]*"\)' cnsearch.c cli/*.c | sed 's/getenv("//; s/")//' | LC_ALL=C sort -u)

# has FILE ERE DESCRIPTION: FILE holds a match for ERE.
has() {
  if grep -Eq -- "$2" "$1"; then pass; else fail "$3"; fi
}
B='(^|[^A-Za-z0-9_-])' E='([^A-Za-z0-9_-]|$)'

# The man page, read with \- as - and font escapes dropped.
MANTXT=$TMP/man.txt
sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\&//g' "$MAN" >"$MANTXT"
for o in $LONGS; do has "$MANTXT" "$B$o$E" "$MAN does not document $o (cnsearch --help prints it)"; done
for o in $SHORTS; do has "$MANTXT" "$B$o$E" "$MAN does not document $o (cnsearch --help prints it)"; done
for c in $COMMANDS; do has "$MANTXT" "^\.(B|BR|BI) $c( |\$)" "$MAN does not document the command '$c'"; done
for f in $FIELDS; do has "$MANTXT" "$B$f:" "$MAN does not document the query field '$f:'"; done
for v in $ENVS; do has "$MANTXT" "^\.B $v\$" "$MAN does not document \$$v under ENVIRONMENT"; done

# zsh: '--limit=[...]', {-n+,--limit=}, "$fmt"--json[...]; fields as 'title\:...'.
for o in $LONGS; do has "$ZSHC" "$B$o$E" "$ZSHC lacks $o"; done
for o in $SHORTS; do has "$ZSHC" "$B$o$E" "$ZSHC lacks $o"; done
for c in $COMMANDS; do has "$ZSHC" "'$c:" "$ZSHC lacks the command '$c'"; done
for f in $FIELDS; do has "$ZSHC" "'$f\\\\:" "$ZSHC lacks the field '$f:'"; done

# fish: -s n -l limit; fields and commands as -a WORD.
for o in $LONGS; do has "$FISHC" "-l ${o#--}( |\$)" "$FISHC lacks $o"; done
for o in $SHORTS; do has "$FISHC" "-s ${o#-}( |\$)" "$FISHC lacks $o"; done
for c in $COMMANDS; do has "$FISHC" "-a $c " "$FISHC lacks the command '$c'"; done
for f in $FIELDS; do has "$FISHC" "-a $f: " "$FISHC lacks the field '$f:'"; done

# bash: by behaviour, not by text.  bcomp WORD...: what completing the last
# word offers, one per line, as bash would after `cnsearch WORD...`.
bcomp() {
  bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _cnsearch; printf "%s\n" "${COMPREPLY[@]}"' \
    sh "$BASHC" cnsearch "$@" 2>&1
}
all=$(bcomp -)
for o in $LONGS $SHORTS; do
  printf '%s\n' "$all" | grep -qxe "$o" && pass || fail "$BASHC does not offer $o"
done
first=$(bcomp '')
for w in $COMMANDS; do
  printf '%s\n' "$first" | grep -qxe "$w" && pass || fail "$BASHC does not offer the command '$w'"
done
query=$(bcomp moe '')
for f in $FIELDS; do
  printf '%s\n' "$query" | grep -qxe "$f:" && pass || fail "$BASHC does not offer the field '$f:'"
done

run bash -c 'source completions/cnsearch.bash; COMP_WORDS=(cnsearch --li); COMP_CWORD=1; _cnsearch; printf "%s\n" "${COMPREPLY[@]}"'
expect_eq "$OUT" "--limit" "bash: cnsearch --li<TAB>"
expect_eq "$(bcomp --color '')" "$(printf 'auto\nalways\nnever')" "bash: cnsearch --color <TAB>"
# bash splits "--sort=d" into "--sort" "=" "d" and replaces only the "d".
expect_eq "$(bcomp --sort = d)" "date" "bash: cnsearch --sort=d<TAB>"
expect_eq "$(bcomp ti)" "title:" "bash: cnsearch ti<TAB>"
expect_eq "$(bcomp moe links-)" "links-to:" "bash: cnsearch moe links-<TAB>"
expect_eq "$(bcomp ind)" "index" "bash: cnsearch ind<TAB>"
expect_eq "$(bcomp moe ind)" "" "bash: command names only as the first word"
expect_eq "$(bcomp -- ind)" "" "bash: after -- no command names"
expect_eq "$(bcomp index --reb)" "--rebuild" "bash: cnsearch index --reb<TAB>"
expect_eq "$(bcomp -n 5 --no-u)" "--no-update" "bash: an option's value is not the command"

# zsh and fish: syntax, and fish by behaviour.
if command -v zsh >/dev/null 2>&1; then
  run zsh -n "$ZSHC"
  expect_rc 0 "zsh -n $ZSHC"
  expect_eq "$ERR" "" "zsh -n $ZSHC is quiet"
fi
if command -v fish >/dev/null 2>&1; then
  run fish -n "$FISHC"
  expect_rc 0 "fish -n $FISHC"
  expect_eq "$ERR" "" "fish -n $FISHC is quiet"
  fcomp() { fish --no-config -c 'source $argv[1]; complete -C"$argv[2]"' "$FISHC" "$1" 2>&1 | cut -f 1; }
  expect_eq "$(fcomp 'cnsearch --li')" "--limit" "fish: cnsearch --li<TAB>"
  expect_eq "$(fcomp 'cnsearch moe tit')" "title:" "fish: cnsearch moe tit<TAB>"
  expect_eq "$(fcomp 'cnsearch --sort d')" "date" "fish: cnsearch --sort d<TAB>"
  fall=$(fcomp 'cnsearch --')
  for o in $LONGS; do
    printf '%s\n' "$fall" | grep -qxe "$o" && pass || fail "fish does not offer $o"
  done
fi

finish
