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
i=0; while [ ! -f "$NOTES/.cnsearch/index.db-watch" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
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

# The watcher updates what changed only: the cases a targeted update
# must get right.  wait_for QUERY WANT: poll a --no-update search (-l).
wait_for() {
  got=""
  for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25; do
    sleep 0.1
    got=$("$BIN" -C "$NOTES" --no-update -l -- "$1" 2>/dev/null | sort | tr '\n' ' ')
    [ "$got" = "$2" ] && return 0
  done
  return 1
}
printf '# Edited\n\nokapifold once\n' > "$NOTES/edited.md"
wait_for okapifold "notes/edited.md " && pass || fail "watch: new note ($got)"
printf '# Edited\n\nnow zebrafold instead\n' > "$NOTES/edited.md"
wait_for zebrafold "notes/edited.md " && pass || fail "watch: a changed note is re-indexed ($got)"
wait_for okapifold "" && pass || fail "watch: its old words are gone ($got)"
mkdir -p "$TMP/outside/sub" && printf '# Moved\n\nibexfold\n' > "$TMP/outside/sub/m.md"
mv "$TMP/outside/sub" "$NOTES/movedin"
wait_for ibexfold "notes/movedin/m.md " && pass || fail "watch: a folder moved in is indexed ($got)"
printf '# Later\n\nibexfold again\n' > "$NOTES/movedin/later.md"
wait_for ibexfold "notes/movedin/later.md notes/movedin/m.md " && pass ||
  fail "watch: a note made in that folder afterwards ($got)"
mv "$NOTES/movedin" "$TMP/outside/back"
wait_for ibexfold "" && pass || fail "watch: a folder moved out leaves the index ($got)"
printf '# Hidden\n\nyakfold\n' > "$NOTES/.hidden.md"
mkdir -p "$NOTES/skipme" && printf '# Skipped\n\nyakfold\n' > "$NOTES/skipme/s.md"
printf 'skipme/\n' > "$NOTES/.cnsearchignore"
printf '# Seen\n\nyakfold\n' > "$NOTES/seen.md"
wait_for yakfold "notes/seen.md " && pass || fail "watch: hidden and ignored notes stay out ($got)"
rm "$NOTES/.cnsearchignore"
wait_for yakfold "notes/seen.md notes/skipme/s.md " && pass ||
  fail "watch: dropping an ignore file brings its notes in ($got)"
rm -r "$NOTES/skipme" "$NOTES/seen.md" "$NOTES/edited.md" "$NOTES/.hidden.md"
wait_for yakfold "" && pass || fail "watch: cleaned up ($got)"
run "$BIN" -C "$NOTES" -q watch
expect_rc 2 "a second watcher is refused"
expect_match "$ERR" "already keeping" "second watcher message"
kill -INT $wpid; wait $wpid; rc=$?
expect_eq "$rc" 0 "watch ends cleanly on Ctrl-C"
run "$BIN" -C "$NOTES" check
expect_rc 0 "check after watch"

# index PATH...: only those notes and folders are looked at, by the
# walk's rules; the result is what a full update would give.
printf '# Saved\n\nmarmotfold\n' > "$NOTES/saved.md"
mkdir -p "$NOTES/dir/deep" && printf '# Deep\n\nmarmotfold too\n' > "$NOTES/dir/deep/d.md"
printf '# Hidden\n\nmarmotfold\n' > "$NOTES/dir/.h.md"
cd "$NOTES/dir"
run "$BIN" -C "$NOTES" index ../saved.md
expect_rc 0 "index a note by a path relative to the current folder"
expect_match "$ERR" "^cnsearch: 1 notes: 1 added, 0 changed, 0 removed" "index PATH counts one note"
run "$BIN" -C "$NOTES" --no-update -l marmotfold
expect_eq "$OUT" "$NOTES/saved.md" "index PATH indexed that note alone"
run "$BIN" -C "$NOTES" index "$NOTES/dir"
expect_match "$ERR" "^cnsearch: 1 notes: 1 added" "index FOLDER takes the notes below it"
cd "$TMP"
run "$BIN" -C "$NOTES" --no-update -l marmotfold
expect_eq "$(printf '%s\n' "$OUT" | sort | tr '\n' ' ')" "notes/dir/deep/d.md notes/saved.md " "index FOLDER: hidden files stay out"
rm "$NOTES/saved.md"
run "$BIN" -C "$NOTES" index "$NOTES/saved.md"
expect_match "$ERR" "0 added, 0 changed, 1 removed" "index PATH of a deleted note removes it"
mkdir -p "$NOTES/gone/deeper" && printf '# Gone\n\nmarmotfold\n' > "$NOTES/gone/deeper/g.md"
run "$BIN" -C "$NOTES" index "$NOTES/gone/deeper/g.md"
expect_match "$ERR" "1 added" "index PATH in a new folder"
rm -r "$NOTES/gone"
run "$BIN" -C "$NOTES" index "$NOTES/gone/deeper/g.md"
expect_match "$ERR" "1 removed" "index PATH of a note whose folders are gone too"
run "$BIN" -C "$NOTES" index "$NOTES/dir/deep/d.md" "$NOTES/dir"
expect_match "$ERR" "^cnsearch: 1 notes: 0 added, 0 changed, 0 removed" "overlapping paths count a note once"
printf 'dir/deep/\n' > "$NOTES/.cnsearchignore"
run "$BIN" -C "$NOTES" index "$NOTES/dir/deep/d.md"
expect_match "$ERR" "1 removed" "index PATH honours the ignore files above it"
rm "$NOTES/.cnsearchignore"
run "$BIN" -C "$NOTES" index "$TMP/outside"
expect_rc 2 "index PATH outside the notes folder"
expect_match "$ERR" "^cnsearch: '.*outside' is not inside the notes folder" "outside path message"
run "$BIN" -C "$NOTES" index --rebuild "$NOTES/dir"
expect_rc 2 "index --rebuild takes no paths"
run "$BIN" -C "$NOTES" index "$NOTES"
expect_rc 0 "index ROOT is a full update"
expect_match "$ERR" "1 added" "index ROOT finds what the paths missed"
run "$BIN" -C "$NOTES" check
expect_rc 0 "check after index PATH"

finish
