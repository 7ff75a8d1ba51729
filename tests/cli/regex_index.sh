#!/bin/sh
# regex_index.sh -- the regex index stays exact across every kind of
# update.  Once the first regex search has built note_tri, every update
# keeps it so (store.c); a note the index misses would silently drop out
# of regex results.  After each step below, every pattern must list
# exactly the notes `grep -lP` lists, and `cnsearch check` passes.
. "$(dirname "$0")/lib.sh"

N=$TMP/rx
python3 - "$N" <<'PY'
import os, random, sys
r = random.Random(11)
words = ["alpha", "beta", "gamma", "delta", "omega", "sigma", "kappa", "zeta"]
for k in range(300):
    d = os.path.join(sys.argv[1], "d%d" % (k % 5))
    os.makedirs(d, exist_ok=True)
    body = " ".join(r.choice(words) for _ in range(60))
    tag = "zq%sx" % ("abc"[k % 3] * (1 + k % 4))
    with open(os.path.join(d, "n%03d.md" % k), "w") as f:
        f.write("# Note %d\n\n%s %s\n\nkey-%02d %s%d\n" %
                (k, body, tag, k % 50, r.choice(words), k % 97))
PY
cd "$N"

# The last two read classes the literal reader once got wrong: a POSIX
# class, and \Q...\E, inside a class (found by fuzz_regex).
PATTERNS='zqa+x zqb{2,}x zq(ab|c)+x key-0[0-9] key-?4[27] omega9[0-6] alpha\d\d\b changed-[a-z]+ fresh[0-9]+ key-[[:digit:]xyz]5 key-[\Q]\E0-9]5'

oracle() { # step: each pattern lists what grep -lP lists
  for p in $PATTERNS; do
    grep -rlP --include='*.md' -- "$p" . | sed 's|^\./||' | LC_ALL=C sort > "$TMP/want"
    "$BIN" --no-update -l -n 0 -- "/$p/" | LC_ALL=C sort > "$TMP/got"
    if cmp -s "$TMP/want" "$TMP/got"; then pass; else
      fail "$1: /$p/ lists other notes than grep -lP: $(diff "$TMP/want" "$TMP/got" | head -4 | tr '\n' ' ')"
    fi
  done
  run "$BIN" check
  expect_rc 0 "$1: check passes"
}

run "$BIN" index -q
expect_rc 0 "index"
# A first index of this many notes is a bulk load, which compresses the
# bodies against a dictionary made from them (zip.c): every pattern below
# reads them all back.  Its id is the 4 bytes after the magic number.
dict_id() { sqlite3 .cnsearch/index.db "SELECT hex(substr(value, 5, 4)) FROM meta WHERE key = 'zdict'"; }
expect_eq "$(dict_id)" 00800000 "a bulk load makes the bodies' dictionary, id 32768"
run "$BIN" -l -- '/zqa+x/'
expect_match "$ERR" 'built the regex index' "the first regex search builds the regex index"
oracle "first build"

# /re/i: PCRE2 matches a letter to every member of its Unicode case set,
# wider than FTS5's folding (U+1C80 is a form of the Cyrillic "в"), so the
# prefilter must not ask note_tri for "ввв" here.
printf 'old spelling \341\262\200\341\262\200\341\262\200\n' > d1/cyrillic.md
run "$BIN" -l -n 0 -- '/ввв/i'
expect_eq "$OUT" "d1/cyrillic.md" "a caseless regex finds a case form FTS5 does not fold"
run "$BIN" -l -n 0 -- '/ввв/'
expect_eq "$OUT" "" "and the same regex without /i does not"
rm d1/cyrillic.md
run "$BIN" index -q
expect_rc 0 "index after the caseless check"

# changes spread over the tree: edits, removals, additions
for k in 3 40 41 77 150 299; do
  printf '# Changed %d\n\nchanged-note omega9%d key-%02d\n' $k $((k % 7)) $((k % 50)) > "d$((k % 5))/n$(printf %03d $k).md"
done
rm d0/n010.md d1/n101.md d4/n204.md
for k in 1 2 3 4 5; do printf 'fresh%d zqaax\n' $k > "d$k-new.md"; done
run "$BIN" index
expect_match "$ERR$OUT" '5 added, 6 changed, 3 removed' "an update across the tree"
oracle "after edits, removals and additions"

# a scoped update (index PATH) of one note, and a search's own update
printf 'changed-scoped alpha42 zqbbx\n' > d2/n012.md
run "$BIN" index d2/n012.md
expect_rc 0 "index PATH"
oracle "after index PATH"
printf 'fresh99 key-07\n' > d3/n033.md
rm d1/n011.md
run "$BIN" -l -- '/fresh9+/'
expect_eq "$OUT" "d3/n033.md" "a regex search brings the index up to date first"
oracle "after a search's own update"

# a run of consecutive notes gone at once, then a rebuild
rm -f d0/n0[3-5]?.md d1/n0[3-5]?.md d2/n0[3-5]?.md d3/n0[3-5]?.md d4/n0[3-5]?.md
run "$BIN" index
expect_rc 0 "index after 30 notes are gone"
oracle "after a run of notes is removed"
run "$BIN" index --rebuild
expect_rc 0 "rebuild"
expect_eq "$(dict_id)" 01800000 "a rebuild makes the next dictionary"
run "$BIN" -l -- '/zqa+x/'
oracle "after a rebuild"

finish
