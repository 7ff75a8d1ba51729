#!/bin/sh
# newindex.sh -- a new index is built aside, as INDEX-new, and renamed
# into place when its first update commits (core/db.c):
#   - while it is built there is no INDEX, and once there is an INDEX
#     there is no INDEX-new; the index in place is in WAL mode and whole;
#   - a search started during the first build waits for it and answers;
#   - a killed first build leaves no INDEX, and the next run builds one;
#     an interrupted one leaves neither file;
#   - what a crash or a removed index left behind (INDEX-new, its
#     journal, a removed index's WAL with committed pages) is not read;
#   - `cnsearch watch` on a folder without an index builds it and stays,
#     and when SIGINT ends it, leaves no WAL behind.
. "$(dirname "$0")/lib.sh"

W=$TMP
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
  W=$(mktemp -d /dev/shm/cnsearch-new.XXXXXX) && trap 'rm -rf "$TMP" "$W"' EXIT
fi
NOTES=$W/notes
IDX=$NOTES/.cnsearch/index.db
export CNSEARCH_NOTES=$NOTES CNSEARCH_WATCH=never
unset CNSEARCH_INDEX NO_COLOR
cd "$W"

# About 12 MB of 8 KB notes: a first build of about half a second.
gen_notes "$NOTES" 1500 5 30
[ -d "$NOTES/d00" ] && pass || fail "generate the notes"

answer() { "$BIN" -C "$NOTES" --no-update -l -n 0 zqalpha | sort; }

# ---- the first build, watched from outside ------------------------------
"$BIN" -C "$NOTES" -q index 2>"$W/err" &
pid=$!
aside=0 both=0
while kill -0 "$pid" 2>/dev/null; do
  # INDEX first, then INDEX-new: with the rename between them both can
  # only be seen if the two are ever in place at once.
  if [ -e "$IDX" ]; then [ -e "$IDX-new" ] && both=$((both + 1)); fi
  [ ! -e "$IDX" ] && [ -e "$IDX-new" ] && aside=$((aside + 1))
done
wait "$pid"
expect_eq "$?" 0 "first build ends 0 ($(cat "$W/err"))"
[ "$aside" -gt 0 ] && pass || fail "INDEX-new was never seen without INDEX during the first build"
expect_eq "$both" 0 "INDEX and INDEX-new are never there at once"
[ -e "$IDX" ] && pass || fail "the first build left no index"
[ ! -e "$IDX-new" ] && pass || fail "the first build left INDEX-new behind"
expect_eq "$(sqlite3 "$IDX" 'PRAGMA journal_mode')" wal "the index in place is in WAL mode"
expect_eq "$(sqlite3 "$IDX" 'PRAGMA page_size')" 8192 "a new index has 8 KB pages"
expect_eq "$(sqlite3 "$IDX" 'PRAGMA integrity_check')" ok "the index in place passes integrity_check"
run "$BIN" -C "$NOTES" check
expect_rc 0 "cnsearch check passes on the new index"
answer > "$W/want"
[ "$(wc -l < "$W/want")" -gt 10 ] && pass || fail "zqalpha is found in more than 10 notes"

# ---- a search during the first build waits for it ------------------------
rm -rf "$NOTES/.cnsearch"
"$BIN" -C "$NOTES" -q index 2>"$W/err" &
pid=$!
until [ -e "$IDX-new" ] || ! kill -0 "$pid" 2>/dev/null; do :; done
run "$BIN" -C "$NOTES" -l -n 0 zqalpha
wait "$pid"
expect_eq "$?" 0 "the first build ends 0 with a search beside it ($(cat "$W/err"))"
expect_rc 0 "a search during the first build ends 0"
expect_eq "$(printf '%s\n' "$OUT" | sort)" "$(cat "$W/want")" "a search during the first build answers in full"
[ ! -e "$IDX-new" ] && pass || fail "INDEX-new is left after a build with a search beside it"

# A first build from scratch, in the background ($pid), 0.1 s after it
# has begun writing INDEX-new.
first_build_under_way() {
  rm -rf "$NOTES/.cnsearch"
  "$BIN" -C "$NOTES" -q index 2>"$W/err" &
  pid=$!
  until [ -s "$IDX-new" ] || ! kill -0 "$pid" 2>/dev/null; do :; done
  sleep 0.1
}

# ---- a killed first build, and what it leaves -----------------------------
first_build_under_way
kill -9 "$pid" 2>/dev/null
{ wait "$pid"; } 2>/dev/null
krc=$?
if [ "$krc" -eq 137 ]; then
  [ ! -e "$IDX" ] && pass || fail "a killed first build left an INDEX"
  [ -e "$IDX-new" ] && pass || fail "a killed first build left no INDEX-new (was it built aside?)"
else
  echo "note: $NAME: the first build ended (exit $krc) before the kill"
fi
printf 'not a database at all' > "$IDX-new-journal"
run "$BIN" -C "$NOTES" -q index
expect_rc 0 "after a killed first build, index ends 0"
[ ! -e "$IDX-new" ] && [ ! -e "$IDX-new-journal" ] && pass || fail "the next build left INDEX-new or its journal"
run "$BIN" -C "$NOTES" check
expect_rc 0 "after a killed first build, check passes"
expect_eq "$(answer)" "$(cat "$W/want")" "after a killed first build, answers are whole"

# A leftover INDEX-new of garbage.
rm -rf "$NOTES/.cnsearch"
mkdir -p "$NOTES/.cnsearch"
head -c 100000 /dev/urandom > "$IDX-new"
run "$BIN" -C "$NOTES" -q index
expect_rc 0 "a garbage INDEX-new: index ends 0"
run "$BIN" -C "$NOTES" check
expect_rc 0 "a garbage INDEX-new: check passes"
expect_eq "$(answer)" "$(cat "$W/want")" "a garbage INDEX-new: answers are whole"

# ---- an interrupted first build --------------------------------------------
first_build_under_way
kill -INT "$pid" 2>/dev/null
wait "$pid"
irc=$?
if [ "$irc" -eq 130 ]; then
  [ ! -e "$IDX" ] && [ ! -e "$IDX-new" ] && pass || fail "an interrupted first build left INDEX or INDEX-new"
  expect_match "$(cat "$W/err")" "^cnsearch: .*interrupted" "an interrupted first build says so"
else
  expect_eq "$irc" 0 "the first build ended by itself before SIGINT"
  echo "note: $NAME: the first build ended before SIGINT"
fi

# ---- a removed index's WAL is not read as the new index's -----------------
# Commit a large change that stays in the WAL (no checkpoint; the writer
# dies without closing), then remove the index file alone.
run "$BIN" -C "$NOTES" -q index
expect_rc 0 "index before the stale-WAL case"
python3 - "$IDX" <<'EOF'
import os, sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("PRAGMA wal_autocheckpoint=0")
db.execute("BEGIN")
db.execute("CREATE TABLE zqstale(x)")
db.execute("WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c "
           "WHERE i < 3000) INSERT INTO zqstale SELECT randomblob(1500) FROM c")
db.execute("DELETE FROM body")
db.execute("COMMIT")
os._exit(0)
EOF
[ -s "$IDX-wal" ] && pass || fail "the stale-WAL case has no WAL to leave behind"
rm -f "$IDX"
run "$BIN" -C "$NOTES" -q index
expect_rc 0 "a removed index's WAL: index ends 0"
expect_eq "$(sqlite3 "$IDX" "SELECT count(*) FROM sqlite_master WHERE name = 'zqstale'")" 0 \
  "a removed index's WAL: none of its pages are in the new index"
run "$BIN" -C "$NOTES" check
expect_rc 0 "a removed index's WAL: check passes"
expect_eq "$(answer)" "$(cat "$W/want")" "a removed index's WAL: answers are whole"

# ---- watch on a folder without an index ------------------------------------
rm -rf "$NOTES/.cnsearch"
"$BIN" -C "$NOTES" -q watch 2>"$W/watch-err" &
wpid=$!
n=0
until [ -e "$IDX" ] || [ $n -ge 300 ]; do sleep 0.1; n=$((n + 1)); done
[ -e "$IDX" ] && pass || fail "watch made no index in 30 s ($(cat "$W/watch-err"))"
sleep 1.5 # the watcher looks at its index file once a second
kill -0 "$wpid" 2>/dev/null && pass || fail "watch ended after making a new index ($(cat "$W/watch-err"))"
printf '\nzqwatchnew\n' >> "$NOTES/d00/n0000.md"
run "$BIN" -C "$NOTES" -l zqwatchnew
expect_eq "$OUT" "notes/d00/n0000.md" "the watcher of a new index answers a search"
kill -INT "$wpid" 2>/dev/null
wait "$wpid"
expect_eq "$?" 0 "watch ends 0 on SIGINT"
# The last connection to close checkpoints the WAL and removes it, even
# one a signal interrupted; a WAL left behind is read again by every
# search that opens the index.
[ ! -e "$IDX-wal" ] && pass || fail "a watcher ended by SIGINT left the WAL behind"

finish
