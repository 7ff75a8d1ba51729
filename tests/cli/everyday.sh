#!/bin/sh
# everyday.sh -- init, the config file, ignore files, tags, stats, watch.
. "$(dirname "$0")/lib.sh"
setup
cd "$TMP"

# init: a commented config, and .cnsearch/ in a git repository's .gitignore.
mkdir -p "$TMP/repo/.git"
run "$BIN" init "$TMP/repo"
expect_rc 0 "init"
[ -f "$TMP/repo/.cnsearch/config" ] && pass || fail "init writes .cnsearch/config"
expect_eq "$(cat "$TMP/repo/.gitignore")" ".cnsearch/" "init adds .cnsearch/ to .gitignore"
run "$BIN" init "$TMP/repo"
expect_eq "$(grep -c cnsearch "$TMP/repo/.gitignore")" 1 "a second init adds nothing"
# every commented setting in the written config is a valid setting
sed -n 's/^# \([a-z.]* = .*\)/\1/p' "$TMP/repo/.cnsearch/config" > "$TMP/repo/.cnsearch/c2"
mv "$TMP/repo/.cnsearch/c2" "$TMP/repo/.cnsearch/config"
printf '# Note\nhello walrusfold\n' > "$TMP/repo/n.md"
run "$BIN" -C "$TMP/repo" -l walrusfold
expect_eq "$OUT" "repo/n.md" "the documented settings all parse"

# config: errors name file and line; settings take effect.
mkdir -p "$NOTES/.cnsearch"
printf 'limit = 2\nbogus = 1\n' > "$NOTES/.cnsearch/config"
run "$BIN" -C "$NOTES" moe
expect_rc 2 "bad config line"
expect_match "$ERR" "^cnsearch: bad setting 'bogus' in config '.*/.cnsearch/config' line 2: unknown setting$" "bad config message"
printf 'limit = 2\nsnippet = 40\n' > "$NOTES/.cnsearch/config"
run "$BIN" -C "$NOTES" --vimgrep moe
expect_eq "$(printf '%s\n' "$OUT" | wc -l | tr -d ' ')" 2 "limit from config"
len=$(printf '%s\n' "$OUT" | head -n 1 | cut -d: -f4- | wc -c)
[ "$len" -le 60 ] && pass || fail "snippet length from config ($len)"
printf 'extensions = md\nignore = blog/\n' > "$NOTES/.cnsearch/config"
printf 'a note about walrusfold\n' > "$NOTES/plain.txt"
run "$BIN" -C "$NOTES" -l -n 0 walrusfold
expect_rc 1 ".txt not indexed when extensions = md"
run "$BIN" -C "$NOTES" -l -n 0 moe
expect_no_match "$OUT" '^notes/blog/' "ignore = blog/ leaves the folder out"
rm "$NOTES/.cnsearch/config"

# .gitignore and .cnsearchignore, with a re-include.
printf 'papers/*.md\n!papers/fsdp.md\n' > "$NOTES/.gitignore"
printf 'index.md\n' > "$NOTES/.cnsearchignore"
run "$BIN" -C "$NOTES" -l -n 0 -- '/./'
expect_no_match "$OUT" 'papers/zero.md' ".gitignore leaves papers/*.md out"
expect_match "$OUT" 'papers/fsdp.md' "'!' re-includes"
expect_no_match "$OUT" '^notes/index.md' ".cnsearchignore"
expect_match "$OUT" 'plain.txt' "a .txt note is back with the default extensions"
rm "$NOTES/.gitignore" "$NOTES/.cnsearchignore" "$NOTES/plain.txt"

# tags and stats.
run "$BIN" -C "$NOTES" tags
expect_rc 0 "tags"
expect_match "$OUT" '^ +3 moe$' "moe is carried by three notes"
run "$BIN" -C "$NOTES" --json tags
printf '%s\n' "$OUT" | python3 -c 'import json,sys; [json.loads(l) for l in sys.stdin]' && pass || fail "tags --json parses"
run "$BIN" -C "$NOTES" stats
expect_match "$OUT" "^notes: $(find "$NOTES" -name '*.md' -not -path '*/.*' | wc -l | tr -d ' ')$" "stats counts the notes"
expect_match "$OUT" '^index size: [0-9]+ bytes' "stats reports the index size"

# watch: changes are indexed within a moment, searches trust it.
"$BIN" -C "$NOTES" -q watch 2>"$TMP/watch.err" &
wpid=$!
i=0; while [ ! -f "$NOTES/.cnsearch/watch.lock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
sleep 0.3
printf '# Fresh\n\nquaggaplex appears here\n' > "$NOTES/fresh.md"
found=""
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
  sleep 0.1
  found=$("$BIN" -C "$NOTES" --no-update -l quaggaplex 2>/dev/null)
  [ -n "$found" ] && break
done
expect_eq "$found" "notes/fresh.md" "watch indexes a new note"
rm "$NOTES/fresh.md"
gone=""
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
  sleep 0.1
  "$BIN" -C "$NOTES" --no-update -l quaggaplex >/dev/null 2>&1 || { gone=yes; break; }
done
expect_eq "$gone" "yes" "watch drops a deleted note"
run "$BIN" -C "$NOTES" -q watch
expect_rc 2 "a second watcher is refused"
expect_match "$ERR" "already watching" "second watcher message"
kill -INT $wpid; wait $wpid; rc=$?
expect_eq "$rc" 0 "watch ends cleanly on Ctrl-C"
run "$BIN" -C "$NOTES" check
expect_rc 0 "check after watch"

finish
