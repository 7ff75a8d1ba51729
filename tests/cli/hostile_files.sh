#!/bin/sh
# hostile_files.sh -- notes no one meant to write: binary data named .md,
# invalid UTF-8, NUL bytes, CRLF and lone-CR line ends, a BOM, an empty
# file, a 5 MB line, 20,000 nested quotes, 3,000 nested lists, 50,000
# links, symlink loops and symlinks out of the root, unreadable files and
# folders, file names with spaces, newlines, escapes and invalid UTF-8,
# and 100,000 tiny files (issue 7, "Hostile files").
#
# Each case starts from a copy of corpus/ whose index is already built,
# adds the hostile file(s) and a good note beside them, and asserts:
# `cnsearch index` exits 0, every good note is still found (the corpus
# answers at least what a clean build answers, the good neighbour is
# found by its word), and `cnsearch check` passes.  Positions are checked
# where the issue asks for them (CRLF, lone CR, BOM, the long line).
. "$(dirname "$0")/lib.sh"
cd "$TMP"
# Every command is time-boxed: a hang is a failure (exit 124), not a stall.
T="timeout 60"
PY=python3

# ---- a clean corpus with its index, copied for every case ------------
setup
rm -rf "$NOTES/.cnsearch"
mv "$NOTES" "$TMP/template"
run $T "$BIN" -C "$TMP/template" -q index
expect_rc 0 "clean build of the corpus"
GOOD_QUERIES="attention MoE quantization tenstorrent"
for q in $GOOD_QUERIES; do
  (cd "$TMP/template" && "$BIN" -C . --no-update -l -n 0 -- "$q" | sort) > "$TMP/base-$q"
done

fresh() { # a private copy of the indexed corpus at $NOTES; hostile/ for the case
  rm -rf "$TMP/notes"
  cp -a "$TMP/template" "$TMP/notes"
  NOTES=$TMP/notes
  export CNSEARCH_NOTES=$NOTES
  mkdir -p "$NOTES/hostile"
  printf '# Good neighbour\n\nThis note holds zqgoodneighbour and nothing odd.\n' \
    > "$NOTES/hostile/good.md"
}

# index, check, and every good note still found.  $1 names the case.
index_ok() {
  run $T "$BIN" -C "$NOTES" index
  expect_rc 0 "$1: index"
  run $T "$BIN" -C "$NOTES" check
  expect_rc 0 "$1: check"
  for q in $GOOD_QUERIES; do
    (cd "$NOTES" && $T "$BIN" -C . --no-update -l -n 0 -- "$q" | sort) > "$TMP/now"
    missing=$(comm -23 "$TMP/base-$q" "$TMP/now" | tr '\n' ' ')
    expect_eq "$missing" "" "$1: corpus notes still found for '$q'"
  done
  run $T "$BIN" -C "$NOTES" --no-update -l zqgoodneighbour
  expect_eq "$OUT" "notes/hostile/good.md" "$1: the good note beside it is found"
}

found() { # word, want path, description
  run $T "$BIN" -C "$NOTES" --no-update -l -n 0 -- "$1"
  expect_eq "$OUT" "$2" "$3"
}

vimgrep_at() { # word, want "path:line:col", description
  run $T "$BIN" -C "$NOTES" --no-update --vimgrep -n 1 -- "$1"
  expect_eq "$(printf '%s\n' "$OUT" | head -n 1 | cut -d: -f1-3)" "$2" "$3"
}

# ---- bytes that are not text ------------------------------------------
fresh
$PY -c 'import random,sys; r=random.Random(7); sys.stdout.buffer.write(bytes(r.randrange(256) for _ in range(262144)))' \
  > "$NOTES/hostile/binary.md"
head -c 65536 /dev/zero > "$NOTES/hostile/zeros.md"
index_ok "binary data named .md"

fresh
printf '# Bad bytes\n\nvalid zqinvalid words \377\376 and \303\050 and \355\240\200 and \300\257 and \370\210\200\200\200 end\n' \
  > "$NOTES/hostile/invalid-utf8.md"
index_ok "invalid UTF-8"
found zqinvalid notes/hostile/invalid-utf8.md "invalid UTF-8: its words are found"

fresh
printf '# NUL\n\nbefore\000after zqnulword here\n\000\000\000\n' > "$NOTES/hostile/nul.md"
index_ok "NUL bytes"
found zqnulword notes/hostile/nul.md "NUL bytes: words after a NUL are found"
# A regex search that may update builds the regex (trigram) index first.
run $T "$BIN" -C "$NOTES" -l -n 0 -- /zqnulw.rd/
expect_eq "$OUT" notes/hostile/nul.md "NUL bytes: a regex finds text after a NUL"
found /zqnulword/ notes/hostile/nul.md "NUL bytes: a literal regex (trigram index) finds text after a NUL"

# ---- line ends and the BOM: line and column stay right ----------------
fresh
printf '# CRLF note\r\n\r\nfirst line\r\nthe zqcrlf here\r\n' > "$NOTES/hostile/crlf.md"
printf '# CR note\r\rfirst line\rthe zqlonecr here\r' > "$NOTES/hostile/cr.md"
printf '\357\273\277the zqbom here\nsecond line\n' > "$NOTES/hostile/bom.md"
printf '\357\273\277# BOM title\n\nzqbomtwo on line three\n' > "$NOTES/hostile/bom2.md"
index_ok "CRLF, lone CR and BOM"
vimgrep_at zqcrlf notes/hostile/crlf.md:4:5 "CRLF: line and column of a word"
vimgrep_at zqlonecr notes/hostile/cr.md:4:5 "lone CR: line and column of a word"
vimgrep_at zqbom notes/hostile/bom.md:1:5 "BOM: column on line 1 does not count the BOM"
vimgrep_at zqbomtwo notes/hostile/bom2.md:3:1 "BOM: lines after a BOM heading"
run $T "$BIN" -C "$NOTES" --no-update -l -- "title:\"BOM title\""
expect_eq "$OUT" "notes/hostile/bom2.md" "BOM: a heading on line 1 still gives the title"

fresh
: > "$NOTES/hostile/empty.md"
printf '\n\n\n' > "$NOTES/hostile/blank.md"
index_ok "an empty file"

# ---- size and depth ---------------------------------------------------
fresh
$PY - "$NOTES/hostile/long-line.md" <<'EOF'
import sys
head = ("lorem ipsum dolor " * 300000)[:5 * 1024 * 1024]
open(sys.argv[1], "w").write(head + " zqlonglineend")
EOF
start=$(date +%s)
index_ok "a 5 MB single line"
secs=$(($(date +%s) - start))
[ "$secs" -le 20 ] && pass || fail "a 5 MB single line: index+check+searches took ${secs}s"
vimgrep_at zqlonglineend notes/hostile/long-line.md:1:$((5 * 1024 * 1024 + 2)) \
  "a 5 MB single line: column of its last word"

fresh
$PY -c 'import sys; sys.stdout.write(">" * 20000 + " zqdeepquote\n")' > "$NOTES/hostile/quotes.md"
$PY -c 'import sys; sys.stdout.write("".join("> " * i + "level %d\n" % i for i in range(0, 2000, 7)) + "zqquotetwo\n")' \
  > "$NOTES/hostile/quotes2.md"
index_ok "20,000 nested quotes"
found zqdeepquote notes/hostile/quotes.md "20,000 nested quotes: the word inside is found"
found zqquotetwo notes/hostile/quotes2.md "stepped quotes: the word after them is found"

fresh
$PY -c 'import sys; sys.stdout.write("- " * 3000 + "zqdeeplist\n")' > "$NOTES/hostile/lists.md"
$PY -c 'import sys; sys.stdout.write("".join(" " * (2 * i) + "- item %d\n" % i for i in range(3000)) + "\nzqlisttwo\n")' \
  > "$NOTES/hostile/lists2.md"
index_ok "3,000 nested list levels"
found zqdeeplist notes/hostile/lists.md "3,000 nested lists: the word inside is found"
found zqlisttwo notes/hostile/lists2.md "3,000 indented list levels: the word after is found"

fresh
$PY -c 'import sys; sys.stdout.write("# Links\n\n" + "".join("[link %d](https://example.org/p%d) " % (i, i) for i in range(50000)) + "\n\nzqmanylinks\n")' \
  > "$NOTES/hostile/links.md"
start=$(date +%s)
index_ok "50,000 links in one note"
secs=$(($(date +%s) - start))
[ "$secs" -le 20 ] && pass || fail "50,000 links: index+check+searches took ${secs}s"
found zqmanylinks notes/hostile/links.md "50,000 links: the note's words are found"
run $T "$BIN" -C "$NOTES" --no-update -l -- 'url:/example\.org\/p49999$/'
expect_eq "$OUT" "notes/hostile/links.md" "50,000 links: the last link's URL is found"

# ---- symbolic links ---------------------------------------------------
fresh
ln -s loop "$NOTES/hostile/loop"
ln -s . "$NOTES/hostile/dot"
ln -s .. "$NOTES/hostile/up"
ln -s b "$NOTES/hostile/a.md"
ln -s a.md "$NOTES/hostile/b"
index_ok "a symlink loop"
run $T "$BIN" -C "$NOTES" --no-update -l -n 0 zqgoodneighbour
expect_eq "$(printf '%s\n' "$OUT" | wc -l | tr -d ' ')" 1 "symlink loop: the good note is listed once"

fresh
mkdir -p "$TMP/outside"
printf '# Outside\n\nzqoutsideword lives outside the root.\n' > "$TMP/outside/secret.md"
ln -s "$TMP/outside" "$NOTES/hostile/outdir"
ln -s "$TMP/outside/secret.md" "$NOTES/hostile/outfile.md"
ln -s ../../outside/secret.md "$NOTES/hostile/relout.md"
index_ok "symlinks out of the root"
run $T "$BIN" -C "$NOTES" --no-update -l zqoutsideword
expect_rc 1 "symlinks out of the root: a note reachable only through them is not indexed"
expect_eq "$OUT" "" "symlinks out of the root: nothing printed"

# ---- unreadable files and folders -------------------------------------
# Permissions do not bind root: run cnsearch as nobody when we are root.
AS=""
if [ "$(id -u)" = 0 ]; then
  if command -v setpriv >/dev/null 2>&1 && getent passwd nobody >/dev/null; then
    AS="setpriv --reuid=nobody --regid=$(id -g nobody) --clear-groups"
  else
    AS=skip
  fi
fi
if [ "$AS" = skip ]; then
  echo "note: $NAME: running as root without setpriv; permission cases skipped"
else
  fresh
  printf '# Secret\n\nzqunreadable\n' > "$NOTES/hostile/secret.md"
  mkdir "$NOTES/hostile/locked"
  printf '# Locked\n\nzqlocked\n' > "$NOTES/hostile/locked/inner.md"
  if [ -n "$AS" ]; then
    chmod 755 "$TMP"
    chown -R nobody "$NOTES"
  fi
  chmod 000 "$NOTES/hostile/secret.md" "$NOTES/hostile/locked"
  run $T $AS "$BIN" -C "$NOTES" index
  expect_rc 0 "unreadable file and folder: index"
  expect_match "$ERR" "unreadable|cannot read|Permission denied" "unreadable file and folder: index says some notes could not be read"
  run $T $AS "$BIN" -C "$NOTES" check
  expect_rc 0 "unreadable file and folder: check"
  run $T $AS "$BIN" -C "$NOTES" --no-update -l zqgoodneighbour
  expect_eq "$OUT" "notes/hostile/good.md" "unreadable file and folder: the good note is found"
  for q in $GOOD_QUERIES; do
    (cd "$NOTES" && $T $AS "$BIN" -C . --no-update -l -n 0 -- "$q" | sort) > "$TMP/now"
    expect_eq "$(comm -23 "$TMP/base-$q" "$TMP/now" | tr '\n' ' ')" "" \
      "unreadable file and folder: corpus notes still found for '$q'"
  done
  run $T $AS "$BIN" -C "$NOTES" -l zqgoodneighbour
  expect_rc 0 "unreadable file and folder: a search (which updates first) still works"
  chmod 755 "$NOTES/hostile/locked"
  chmod 644 "$NOTES/hostile/secret.md"
  chmod 700 "$TMP"
fi

# ---- file names -------------------------------------------------------
fresh
nl='
'
printf '# Space\n\nzqspacename\n' > "$NOTES/hostile/with space.md"
printf '# Newline\n\nzqnewlinename\n' > "$NOTES/hostile/new${nl}line.md"
printf '# Bad name\n\nzqbadname\n' > "$NOTES/hostile/$(printf 'bad\377\376name.md')"
printf '# Escape\n\nzqescapename\n' > "$NOTES/hostile/$(printf 'esc\033[31mred.md')"
printf '# Tab\n\nzqtabname\n' > "$NOTES/hostile/$(printf 'tab\there.md')"
index_ok "odd file names"
found zqspacename "notes/hostile/with space.md" "file name with a space"
for w in zqnewlinename zqbadname zqescapename zqtabname; do
  for fmt in -l --vimgrep --json -c ""; do
    run $T "$BIN" -C "$NOTES" --no-update $fmt -- "$w"
    expect_rc 0 "odd file name ($w) $fmt: found"
    expect_eq "$(printf '%s\n' "$OUT" | wc -l | tr -d ' ')" 1 "odd file name ($w) $fmt: one line, no raw newline"
    expect_no_match "$OUT" "$(printf '[\001-\011\013-\037\177]')" "odd file name ($w) $fmt: no raw control bytes"
  done
  run $T "$BIN" -C "$NOTES" --no-update --json -- "$w"
  printf '%s\n' "$OUT" | jq -e .path >/dev/null 2>&1 && pass || fail "odd file name ($w): --json is valid JSON: $OUT"
done
# -l --null prints the name raw, NUL-terminated.
for name in "new${nl}line.md" "$(printf 'bad\377\376name.md')" "$(printf 'tab\there.md')"; do
  w=$(sed -n 3p "$NOTES/hostile/$name")
  (cd "$TMP" && $T "$BIN" -C "$NOTES" --no-update -l --null -- "$w") > "$TMP/null-out"
  printf 'notes/hostile/%s\000' "$name" > "$TMP/null-want"
  if cmp -s "$TMP/null-out" "$TMP/null-want"; then pass; else
    fail "-l --null prints '$w's file name raw and NUL-terminated: got $(od -c "$TMP/null-out" | head -n 2 | tr '\n' ' ')"
  fi
done

# ---- 100,000 tiny files -----------------------------------------------
# Made on a tmpfs when there is one: creating 100,000 files on a slow disk
# takes longer than indexing them, and the point is the indexer's time.
SHM=""
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
  SHM=$(mktemp -d /dev/shm/cnsearch-test.XXXXXX) && trap 'rm -rf "$TMP" "$SHM"' EXIT
fi
MANY=${SHM:-$TMP}/many
cd "$(dirname "$MANY")"
$PY - "$MANY" <<'EOF'
import os, sys
root = sys.argv[1]
for d in range(100):
    os.makedirs(os.path.join(root, "d%02d" % d))
    for f in range(1000):
        with open(os.path.join(root, "d%02d" % d, "n%04d.md" % f), "w") as fh:
            fh.write("tiny note %d %d%s\n" % (d, f, " zqneedle" if (d, f) == (42, 421) else ""))
EOF
start=$(date +%s)
run timeout 120 "$BIN" -C "$MANY" index
secs=$(($(date +%s) - start))
expect_rc 0 "100,000 tiny files: index"
echo "note: $NAME: 100,000 tiny files indexed in ${secs}s"
[ "$secs" -lt 30 ] && pass || fail "100,000 tiny files: index took ${secs}s (want well under a minute)"
start=$(date +%s)
run timeout 60 "$BIN" -C "$MANY" -l zqneedle
secs=$(($(date +%s) - start))
expect_eq "$OUT" "many/d42/n0421.md" "100,000 tiny files: the one with the word is found"
echo "note: $NAME: a search over 100,000 unchanged files (with the freshness walk) took ${secs}s"
[ "$secs" -lt 5 ] && pass || fail "100,000 tiny files: a search with nothing changed took ${secs}s"
run timeout 60 "$BIN" -C "$MANY" check
expect_rc 0 "100,000 tiny files: check"
cd "$TMP"
rm -rf "$MANY"

finish
