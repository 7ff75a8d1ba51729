#!/bin/sh
# hostile_queries.sh -- queries no one meant to type (issue 7, "Hostile
# queries").  Every one must end, within 5 seconds, either
#   - with exit 2 and exactly one line on stderr, starting "cnsearch: ",
#     with no SQLite or FTS5 text in it ('fts5', 'syntax error', 'SQL',
#     'sqlite') and no raw control bytes or invalid UTF-8; or
#   - with exit 0 or 1 and a sane answer: every --vimgrep line is
#     path:line:column:text, every --json line parses, nothing on stderr
#     but a "did you mean" line;
# and never with a crash (exit >= 128) or a hang (timeout's 124).
# A catastrophic regex is bounded; a bad regex says where it is bad.
. "$(dirname "$0")/lib.sh"
setup
rm -rf "$NOTES/.cnsearch"   # a stale index a build may have left in corpus/
cd "$TMP"
run timeout 60 "$BIN" -C "$NOTES" -q index
expect_rc 0 "index the corpus"
# One regex search that may write, so that the regex (trigram) index
# exists and every regex below goes through it.
run timeout 60 "$BIN" -C "$NOTES" -l /Mixture/
expect_rc 0 "a first regex search"

nl='
'
# One check of stderr for an error: one line, our prefix, nothing of SQLite's.
error_ok() { # description
  n=$(printf '%s\n' "$ERR" | wc -l | tr -d ' ')
  expect_eq "$n" 1 "$1: one line on stderr"
  expect_match "$ERR" '^cnsearch: ' "$1: message starts 'cnsearch: '"
  expect_no_match "$ERR" '[Ff][Tt][Ss]5|[Ss]yntax error|SQL|[Ss][Qq][Ll]ite' "$1: no SQLite/FTS5 text"
  expect_no_match "$ERR" "$(printf '[\001-\011\013-\037\177]')" "$1: no raw control bytes in the message"
  if printf '%s' "$ERR" | iconv -f UTF-8 -t UTF-8 >/dev/null 2>&1; then pass; else
    fail "$1: message is not valid UTF-8: $(printf '%s' "$ERR" | od -c | head -n 3 | tr '\n' ' ')"
  fi
}

answer_ok() { # format, description: exit 0/1 output is well-formed
  case "$1" in
  --vimgrep)
    bad=$(printf '%s\n' "$OUT" | grep -v '^$' | grep -Ecv '^[^:]+:[0-9]+:[0-9]+:')
    expect_eq "$bad" 0 "$2: every --vimgrep line is path:line:column:text" ;;
  --json)
    if [ -z "$OUT" ] || printf '%s\n' "$OUT" | jq -e . >/dev/null 2>&1; then pass; else
      fail "$2: --json output does not parse: $(printf '%s' "$OUT" | head -c 200)"
    fi ;;
  esac
  if [ "$RC" -eq 0 ]; then
    [ -n "$OUT" ] && pass || fail "$2: exit 0 but nothing printed"
  else
    expect_eq "$OUT" "" "$2: exit 1 prints nothing"
  fi
  expect_no_match "$ERR" '[Ff][Tt][Ss]5|[Ss]yntax error|SQL|[Ss][Qq][Ll]ite' "$2: no SQLite/FTS5 text"
  printf '%s\n' "$ERR" | grep -v '^$' | grep -qv '^cnsearch: no match; did you mean' &&
    fail "$2: unexpected stderr with exit $RC: $ERR" || pass
}

# try QUERY [description]: --vimgrep (and --json when $FORMATS says so),
# any acceptable outcome.
FORMATS=--vimgrep
try() {
  d=${2:-$(printf '%s' "$1" | head -c 60 | od -An -c | tr -s ' \n' ' ')}
  for fmt in $FORMATS; do
    run timeout 5 "$BIN" -C "$NOTES" --no-update $fmt -n 5 -- "$1"
    case "$RC" in
    0|1) answer_ok "$fmt" "query [$d] $fmt" ;;
    2) error_ok "query [$d] $fmt" ;;
    124) fail "query [$d] $fmt: hangs (killed after 5 s)" ;;
    *) fail "query [$d] $fmt: exit $RC (crash?) stderr: $(printf '%s' "$ERR" | head -c 300)" ;;
    esac
  done
}

# The issue's list, in both formats.
FORMATS="--vimgrep --json"
for q in '"' '(' ')' 'AND' 'NOT' '*' 'NEAR(' '/' '//' '/[/' 'title:' ':::'; do
  try "$q"
done
FORMATS=--vimgrep
# More of the same kind.
for q in 'OR' 'NEAR' 'NEAR()' 'NEAR(a b' 'NEAR(a, 99999999)' 'NEAR(a,)' 'NEAR(, 3)' \
  '""' '"" ""' '"*"' '()' '(())' ')(' '-' '--' '-(' '-)' '-"' 'a OR' 'OR a' \
  'a AND' 'AND a' 'NOT NOT' 'a NOT' '-a' '-(a OR b)' 'a -(-b)' '(a OR -b)' \
  'title:(' 'title:"' 'title:/' 'title://' 'path:/(/' 'url:' 'tag:' 'tag:#' \
  'after:2024-13-01' 'before:yesterday' 'after:' '/a/x' '/a/ii' '/(?<n>a)\k<m>/' \
  '/\/' '\' "'" ';DROP TABLE note;--' "a' OR '1'='1" '%' '_' 'a:b:c' \
  'c++' 'c#' '*a' 'a**' '"a" * *' 'moe*' 'NEAR(moe expert, 0)' \
  '日本語' '😀' "$(printf '\342\200\256moe')" "$(printf 'mo\342\200\213e')" \
  'body:/x{99999}/' '/(?R)/' '/\p{Bogus}/' '/[[:bogus:]]/' '/(*LIMIT_MATCH=1)a/' \
  'heading:/(/' 'title:/a/i OR b' '(title:x)' 'x OR path:/a/' \
  "a${nl}b" "NEAR(a${nl}b)" ; do
  try "$q"
done

# Control and "NUL-ish" bytes (argv cannot hold a NUL).
for b in 001 002 010 011 033 037 177; do
  try "$(printf "moe\\${b}expert")"
  try "$(printf "\\${b}")"
  try "$(printf "/a\\${b}/")"
  try "$(printf "title:\\${b}")"
done
try "$(printf '\033[31mred\033[0m')" "terminal escape"

# Invalid UTF-8: in a word, a phrase, a regex, a field.  Both formats.
FORMATS="--vimgrep --json"
for q in "$(printf '\377\376')" "$(printf 'caf\351')" "$(printf '"\300\257"')" \
  "$(printf '/\377/')" "$(printf '/caf\351/')" "$(printf 'title:\355\240\200')" \
  "$(printf 'path:/\370\210\200\200\200/')" "$(printf 'NEAR(\377 \376)')"; do
  try "$q"
done

# Big and deep.
big=$(python3 -c 'print("x" * 10240, end="")')
try "$big" "a 10 KB word"
FORMATS=--vimgrep
try "$(python3 -c 'print(" ".join("w%d" % i for i in range(2000)), end="")')" "a 10 KB query of 2,000 words"
try "$(python3 -c 'print(" OR ".join("w%d" % i for i in range(1500)), end="")')" "1,500 ORs"
try "$(python3 -c 'print(" ".join("-w%d" % i for i in range(1500)) + " moe", end="")')" "1,500 negations"
try "$(python3 -c 'print("(" * 5000 + "moe" + ")" * 5000, end="")')" "5,000 nested parentheses"
try "$(python3 -c 'print("(" * 30 + "moe" + ")" * 30, end="")')" "30 nested parentheses"
try "$(python3 -c 'print("NOT " * 5000 + "moe", end="")')" "5,000 NOTs"
try "$(python3 -c 'print("\"" + "a " * 5000 + "\"", end="")')" "a 10 KB phrase"
try "$(python3 -c 'print("/" + "a" * 10240 + "/", end="")')" "a 10 KB regex"
try "$(python3 -c 'print("/" + "(" * 300 + "a" + ")" * 300 + "/", end="")')" "a deeply nested regex"
try "$(python3 -c 'print(" ".join("title:w%d" % i for i in range(1000)), end="")')" "1,000 column words"
try "$(python3 -c 'print(" ".join("path:/w%d/" % i for i in range(300)), end="")')" "300 regex filters"

# Regexes whose literals are hard to read still find every note: the
# regex index may only narrow the search, never miss.
printf '# Alt\n\njust xyzzy here\n' > "$NOTES/alt.md"
run timeout 60 "$BIN" -C "$NOTES" -q index
for q in '/\Q(\Eabcde|xyzzy/' '/(abcde)|xyzzy/' '/[(]abcde|xyzzy/' '/\(abcde|xyzzy/' \
  '/xyz{0}zy|xyzzy/' '/xy(?#comment)zzy/' '/x\Qyz\Ezy/' '/\x{78}yzzy/' '/xyz\Kzy/'; do
  run timeout 5 "$BIN" -C "$NOTES" --no-update -l -- "$q"
  expect_eq "$OUT" "notes/alt.md" "regex $q finds the note holding xyzzy"
done
rm "$NOTES/alt.md"
run timeout 60 "$BIN" -C "$NOTES" -q index

# A bad regex says what and where.
run timeout 5 "$BIN" -C "$NOTES" --no-update '/(MoE/'
expect_rc 2 "bad regex"
expect_eq "$ERR" "cnsearch: bad regex '/(MoE/' at offset 4: missing closing parenthesis" "bad regex message"

# Catastrophic backtracking is bounded: /(a+)+$/ on a 100 KB line of a's
# followed by 'b' ends in under a second with exit 2 and a clear message.
python3 -c 'print("# Backtracking\n\n" + "a" * 102400 + "b\n\nzqbacktrack\n", end="")' \
  > "$NOTES/backtrack.md"
run timeout 60 "$BIN" -C "$NOTES" -q index
expect_rc 0 "index the backtracking note"
for q in '/(a+)+$/' '/(a|aa)+$/' '/(a*)*b$/x' '/^(a+)+c/' 'body:/(a+)+$/' 'zqbacktrack /(a+)+$/'; do
  start=$(date +%s%N)
  run timeout 3 "$BIN" -C "$NOTES" --no-update -l -- "$q"
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  case "$RC" in
  124) fail "catastrophic regex $q: still running after 3 s" ; continue ;;
  esac
  [ "$ms" -lt 1000 ] && pass || fail "catastrophic regex $q: took ${ms} ms, want under a second"
  if [ "$q" = '/(a*)*b$/x' ]; then   # an unknown flag: refused before matching
    expect_rc 2 "regex with an unknown flag"
    continue
  fi
  expect_rc 2 "catastrophic regex $q: exit"
  error_ok "catastrophic regex $q"
  expect_match "$ERR" 'regex' "catastrophic regex $q: the message is about the regex"
done

finish
