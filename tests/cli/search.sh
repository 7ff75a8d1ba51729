#!/bin/sh
# search.sh -- the end-to-end path on a copy of corpus/: first search
# builds the index, known items land first, exit codes, output shapes,
# positions that point at the word, and add/modify/delete then search.
. "$(dirname "$0")/lib.sh"
setup
cd "$TMP"

# The first search builds the index; MoE finds the MoE note first.
run "$BIN" -C "$NOTES" MoE
expect_rc 0 "search MoE"
first=$(printf '%s\n' "$OUT" | head -n 1)
expect_match "$first" '^notes/topics/mixture-of-experts.md:[0-9]+:[0-9]+: ' "MoE lands the MoE note first"
[ -f "$NOTES/.cnsearch/index.db" ] && pass || fail "index created at ROOT/.cnsearch/index.db"

# Known items: each query's best note comes first (-l prints notes in rank order).
while IFS='	' read -r q want; do
  case "$q" in '#'*|'') continue ;; esac
  run "$BIN" -C "$NOTES" --no-update -l -n 1 -- "$q"
  expect_eq "$OUT" "notes/$want" "known item '$q'"
done < "$ROOT/tests/cli/known_items.tsv"

# A regex over the notes' text lists exactly the notes grep lists.  Under
# `make test-valgrind` this also checks the text PCRE2 reads has room for
# its JIT's 16-byte loads past the end (zip.c, ZIP_SLACK).
for re in mixture 'expert(s|ise)' 'rout(ing|er)'; do
  want=$(cd "$TMP" && grep -rlE --include='*.md' -- "$re" notes | LC_ALL=C sort)
  run "$BIN" -C "$NOTES" --no-update -l -n 0 -- "/$re/"
  expect_rc 0 "/$re/ finds notes (and, under valgrind, reads no byte it should not)"
  expect_eq "$(printf '%s\n' "$OUT" | LC_ALL=C sort)" "$want" "/$re/ lists what grep -lE lists"
done

# Headings and URLs are matched on copies with the same room (rx_find_copy).
for q in 'heading:/expert/' 'url:/arxiv/' 'moe heading:/e/' 'moe url:/github/'; do
  run "$BIN" -C "$NOTES" --no-update -- "$q"
  expect_rc 0 "'$q' finds notes (and, under valgrind, reads no byte it should not)"
done

# Exit codes: 1 for nothing, 2 for errors.
run "$BIN" -C "$NOTES" --no-update qwxzzyqq
expect_rc 1 "no hits"
expect_eq "$OUT" "" "no output for no hits"
run "$BIN" -C "$TMP/does-not-exist" moe
expect_rc 2 "missing notes folder"
expect_match "$ERR" "^cnsearch: notes folder '.*does-not-exist' does not exist" "missing folder message"
run "$BIN" -C "$NOTES" --no-update '"moe'
expect_rc 2 "unbalanced quote"
expect_match "$ERR" '^cnsearch: .*quote' "unbalanced quote message"
run "$BIN" -C "$NOTES" --bogus moe
expect_rc 2 "unknown option"
run "$BIN" -C "$NOTES"
expect_rc 2 "no query"
run "$BIN" -C "$NOTES" --index "$TMP/none/x.db" --no-update moe
expect_rc 2 "--no-update without an index"
expect_match "$ERR" "run 'cnsearch index'" "missing index says what to do"

# --vimgrep: path:line:col:text, and line:col points at the word.
run "$BIN" -C "$NOTES" --no-update --vimgrep -n 0 tenstorrent
expect_rc 0 "vimgrep"
n=0
printf '%s\n' "$OUT" > "$TMP/vg"
while IFS=: read -r path line col rest; do
  n=$((n + 1))
  word=$(sed -n "${line}p" "$TMP/$path" | cut -c"$col"- | cut -c1-11)
  expect_eq "$(printf '%s' "$word" | tr 'A-Z' 'a-z')" tenstorrent "vimgrep $path:$line:$col points at the word"
done < "$TMP/vg"
[ "$n" -gt 0 ] && pass || fail "vimgrep printed hits"

# Piped human output: one self-contained line per hit, no colour codes.
run "$BIN" -C "$NOTES" --no-update FSDP
expect_no_match "$OUT" "$(printf '\033')" "no colour when piped"
run "$BIN" -C "$NOTES" --no-update --color=always FSDP
expect_match "$OUT" "$(printf '\033')\\[" "colour with --color=always"
run "$BIN" -C "$NOTES" --no-update --color=always -n 3 FSDP
NO_COLOR=1 run "$BIN" -C "$NOTES" --no-update -n 3 FSDP
expect_no_match "$OUT" "$(printf '\033')" "NO_COLOR honoured"

# -n limits hits; -l prints each note once.
run "$BIN" -C "$NOTES" --no-update --vimgrep -n 3 model
expect_eq "$(printf '%s\n' "$OUT" | wc -l | tr -d ' ')" 3 "-n 3 gives 3 hits"
run "$BIN" -C "$NOTES" --no-update -l -n 0 model
expect_eq "$(printf '%s\n' "$OUT" | sort | uniq -d)" "" "-l lists each note once"

# Add, modify, delete a note: the next search sees each change.
printf '# Scratch\n\nA note about quokkaformer models.\n' > "$NOTES/scratch.md"
run "$BIN" -C "$NOTES" --vimgrep quokkaformer
expect_rc 0 "new note is found"
expect_eq "$OUT" "notes/scratch.md:3:14:A note about quokkaformer models." "new note hit and position"
sleep 0.01
printf '# Scratch\n\nNow about wombatnet instead.\n' > "$NOTES/scratch.md"
run "$BIN" -C "$NOTES" -l quokkaformer
expect_rc 1 "changed note no longer matches the old word"
run "$BIN" -C "$NOTES" -l wombatnet
expect_eq "$OUT" "notes/scratch.md" "changed note matches the new word"
rm "$NOTES/scratch.md"
run "$BIN" -C "$NOTES" -l wombatnet
expect_rc 1 "deleted note is gone"
run "$BIN" -C "$NOTES" check
expect_rc 0 "check after changes"

# Paths print relative to the current folder when below it.
cd "$NOTES/papers"
run "$BIN" -C "$NOTES" --no-update -l sequoia
expect_eq "$OUT" "speculative-decoding.md" "path relative to cwd"
mkdir -p "$TMP/elsewhere" && cd "$TMP/elsewhere"
run "$BIN" -C "$NOTES" --no-update -l sequoia
expect_eq "$OUT" "$NOTES/papers/speculative-decoding.md" "absolute path outside cwd"
cd "$TMP"

# An index made by another schema version is rebuilt, with a notice.
sqlite3 "$NOTES/.cnsearch/index.db" 'PRAGMA user_version = 1'
run "$BIN" -C "$NOTES" -l sequoia
expect_rc 0 "search after a version change"
expect_match "$ERR" "^cnsearch: index '.*' was made by another version of cnsearch; rebuilding it$" "rebuild notice"
run "$BIN" -C "$NOTES" check
expect_rc 0 "check after the rebuild"

# Rank order.  Without filters, notes are ranked by FTS5 alone and their
# rows read afterwards; with one (path:/./ keeps every note) they are
# ranked through a join.  Both must give the same hits in the same order,
# and scores never rise down the list.  The notes are made so that rank
# order is far from path (and id) order: note k holds "zqword" k times.
R=$TMP/ranked
python3 - "$R" <<'PY'
import os, random, sys
r = random.Random(7)
words = ["alpha", "beta", "gamma", "delta", "omega", "sigma", "kappa"]
for k in range(1, 161):
    d = os.path.join(sys.argv[1], "d%d" % (k % 7))
    os.makedirs(d, exist_ok=True)
    body = " ".join(r.choice(words) for _ in range(200 - k))
    with open(os.path.join(d, "n%03d.md" % (161 - k)), "w") as f:
        f.write("# Note %d\n\n%s %s\n\n## More\n\nzqother %s\n" %
                (k, body, " ".join(["zqword"] * (k % 37 + 1)), r.choice(words)))
PY
run "$BIN" -C "$R" index
expect_rc 0 "index the rank-order notes"
for q in zqword 'zqword alpha' 'zqword OR zqother' '"zqword zqword"' 'zqw*' \
         'alpha /zqw[aeiou]rd/' '/zqw[aeiou]rd/'; do
  for lim in 5 20 0; do
    run "$BIN" -C "$R" --no-update --color=never -n $lim -- "$q"
    plain=$OUT
    run "$BIN" -C "$R" --no-update --color=never -n $lim -- "$q path:/./"
    expect_eq "$plain" "$OUT" "'$q' -n $lim: same hits, same order, with and without a filter"
    run "$BIN" -C "$R" --no-update -l -n $lim -- "$q"
    limited=$OUT
    run "$BIN" -C "$R" --no-update -l -n 0 -- "$q"
    [ "$lim" = 0 ] || OUT=$(printf '%s\n' "$OUT" | head -n "$lim")
    expect_eq "$limited" "$OUT" "'$q' -l -n $lim: the first notes of the whole list"
    # a limited search reads only the rows that could place a hit
    # (search.c, tier_rows()): it shows the first hits of the whole list
    run "$BIN" -C "$R" --no-update --vimgrep -n $lim -- "$q"
    limited=$OUT
    run "$BIN" -C "$R" --no-update --vimgrep -n 0 -- "$q"
    [ "$lim" = 0 ] || OUT=$(printf '%s\n' "$OUT" | head -n "$lim")
    expect_eq "$limited" "$OUT" "'$q' -n $lim: the first hits of the whole list"
  done
  run "$BIN" -C "$R" --no-update --json -n 0 -- "$q"
  printf '%s\n' "$OUT" | python3 -c '
import json, sys
s = [json.loads(l)["score"] for l in sys.stdin if l.strip()]
sys.exit(0 if len(s) > 20 and all(a >= b for a, b in zip(s, s[1:])) else 1)'
  [ $? -eq 0 ] && pass || fail "'$q': more than 20 hits, scores never rise"
done

# The fallback tier skips the notes the first tier took, so it may read
# that many rows more (tier_rows()); four notes hold all the words here,
# and the fallback fills the rest of the limit with notes holding some.
q='zqother (41 OR 42 OR 43 OR 44)'
run "$BIN" -C "$R" --no-update --explain -n 10 -- "$q"
expect_match "$OUT" "tier 1;" "'$q': the fallback tier runs"
run "$BIN" -C "$R" --no-update --vimgrep -n 50 -- "$q"
whole=$OUT
for lim in 10 12; do
  run "$BIN" -C "$R" --no-update --vimgrep -n $lim -- "$q"
  expect_eq "$OUT" "$(printf '%s\n' "$whole" | head -n $lim)" "'$q' -n $lim: the first hits of -n 50, fallback included"
done

finish
