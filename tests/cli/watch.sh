#!/bin/sh
# watch.sh -- searches and `cnsearch index` while `cnsearch watch` runs.
#
# A running watcher spares searches their walk over the notes, but only
# once it has said that it has caught up with every change made before
# the search (its cookie, indexer/watch.c).  These tests change a note
# and search for it at once, many times over: without that handshake the
# watcher's debounce alone would make most of them miss.  They also take
# the watcher away in the ways it can go (stopped, killed, its event
# queue overflowing) and check that searches still find what is there.
. "$(dirname "$0")/lib.sh"
setup
cd "$NOTES" # results are printed relative to the current folder
SYNC=$NOTES/.cnsearch/index.db-sync
run "$BIN" -C "$NOTES" -q index
expect_rc 0 "first index"

# A search that arrived before the watcher watched INDEX-sync/ left its
# cookie there; the watcher's first full update must answer it.
mkdir -p "$SYNC"
exec 7<>"$SYNC/cearly"

"$BIN" -C "$NOTES" -q watch 2>"$TMP/watch.err" &
wpid=$!
# `index` answers through the watcher once it is up
i=0
while [ $i -lt 100 ]; do
  "$BIN" -C "$NOTES" index 2>"$TMP/ready" && grep -q "kept fresh by 'cnsearch watch'" "$TMP/ready" && break
  sleep 0.1; i=$((i + 1))
done
expect_match "$(cat "$TMP/ready")" "kept fresh by 'cnsearch watch', which just applied 0 added, 0 changed" \
  "index defers to a running watcher"
[ ! -e "$SYNC/cearly" ] && pass || fail "a cookie left before the watcher started is answered"
expect_match "$(cat <&7)" '^ok [0-9]+ 0 0 0 0$' "its answer is ok"
exec 7<&-

# Change a note, search at once: every search must see the change.
n=0 missed=""
while [ $n -lt 25 ]; do
  printf '\nwombatique%d\n' "$n" >>"$NOTES/papers/fsdp.md"
  got=$("$BIN" -C "$NOTES" -l "wombatique$n" 2>&1)
  [ "$got" = "papers/fsdp.md" ] || missed="$missed $n:$got"
  printf '# New %d\n\nnumbatique%d\n' "$n" "$n" >"$NOTES/new$n.md"
  got=$("$BIN" -C "$NOTES" -l "numbatique$n" 2>&1)
  [ "$got" = "new$n.md" ] || missed="$missed new$n:$got"
  rm "$NOTES/new$n.md"
  got=$("$BIN" -C "$NOTES" -l "numbatique$n" 2>&1)
  [ -z "$got" ] || missed="$missed gone$n:$got"
  n=$((n + 1))
done
expect_eq "$missed" "" "searches right after a change see it (25 edits, adds, removals)"

# The watcher is stopped while the note changes and `index` drops its
# cookie, so it reads both in one go however slowly `index` starts (under
# the sanitizers it once took longer than the watcher's 40 ms debounce).
kill -STOP $wpid
printf '\nquokkatique\n' >>"$NOTES/papers/fsdp.md"
"$BIN" -C "$NOTES" index >"$TMP/out" 2>"$TMP/err" &
ipid=$!
i=0
while [ -z "$(ls "$SYNC" 2>/dev/null)" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
kill -CONT $wpid
wait $ipid
RC=$? OUT=$(cat "$TMP/out") ERR=$(cat "$TMP/err")
expect_rc 0 "index through the watcher"
expect_match "$ERR" "which just applied 0 added, 1 changed, 0 removed" "index reports what the watcher still had to apply"
run "$BIN" -C "$NOTES" --no-update -l quokkatique
expect_eq "$OUT" "papers/fsdp.md" "after index returns, the change is in the index"
expect_eq "$(ls "$SYNC")" "" "no cookie is left behind"

# Another index of the same notes is not kept by this watcher.
run "$BIN" -C "$NOTES" --index "$TMP/other.db" -q index
printf '# Other\n\nplatypique\n' >"$NOTES/other.md"
run "$BIN" -C "$NOTES" --index "$TMP/other.db" -l platypique
expect_eq "$OUT" "other.md" "a search of another index walks the notes itself"

# Another process holds the index past SQLite's busy timeout (10 s), as
# a rebuild of a large folder does: the watcher outlasts it instead of
# exiting, and then indexes what changed meanwhile.
hold_lock "$NOTES/.cnsearch/index.db" 11
hpid=$!
sleep 0.5
printf '# Held\n\nwallabique\n' >"$NOTES/held.md"
wait $hpid
kill -0 $wpid 2>/dev/null && pass || fail "the watcher outlives a long lock on the index"
got="" i=0
while [ $i -lt 50 ] && [ -z "$got" ]; do
  got=$("$BIN" -C "$NOTES" --no-update -l wallabique 2>/dev/null)
  sleep 0.1; i=$((i + 1))
done
expect_eq "$got" "held.md" "and indexes the note written while it waited"

# A watcher that stops answering: the search waits a while, then walks.
kill -STOP $wpid
printf '# Stopped\n\nechidnique\n' >"$NOTES/stopped.md"
run timeout 30 "$BIN" -C "$NOTES" -l echidnique
expect_rc 0 "a search with a stopped watcher ends"
expect_eq "$OUT" "stopped.md" "and finds the note by its own walk"

# links, tags and stats ask the watcher too: with it stopped, each
# leaves its cookie in INDEX-sync/ and waits for an answer
for cmd in "links papers/fsdp.md" tags stats; do
  # shellcheck disable=SC2086 # the command and its argument
  "$BIN" -C "$NOTES" $cmd >/dev/null 2>&1 &
  cpid=$!
  i=0
  while [ -z "$(ls "$SYNC")" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
  [ -n "$(ls "$SYNC")" ] && pass || fail "'$cmd' asks a running watcher"
  kill $cpid
  wait $cpid 2>/dev/null
  rm -f "$SYNC"/*
done
kill -CONT $wpid

# search_while WORD SIGNAL: search for WORD (-l) while the stopped
# watcher gets SIGNAL; the search has 4 s, less than the 5 s it would
# wait for an answer before walking itself.  Sets $OUT and $RC.
search_while() {
  timeout 4 "$BIN" -C "$NOTES" -l "$1" >"$TMP/bg.out" 2>&1 &
  spid=$!
  sleep 0.5
  kill "$2" $wpid
  wait $spid
  RC=$?
  OUT=$(cat "$TMP/bg.out")
}

# The watcher's event queue overflows while a search waits: the cookie's
# own event is lost, and the full update that follows answers it.
mkdir "$NOTES/junk"
"$BIN" -C "$NOTES" -q index # the watcher now watches junk/
kill -STOP $wpid
(cd "$NOTES/junk" && seq 1 9000 | sed 's/$/.dat/' | xargs touch && rm -f ./*.dat)
printf '# Flood\n\nbilbyique\n' >"$NOTES/flood.md"
search_while bilbyique -CONT
expect_eq "$RC" 0 "a search waiting through an overflow is answered before its wait ends"
expect_eq "$OUT" "flood.md" "and finds the new note"
run "$BIN" -C "$NOTES" --no-update -l bilbyique
expect_eq "$OUT" "flood.md" "the watcher indexed it after the overflow"

# A watcher killed while a search waits: the search notices (its lock is
# gone) and walks at once, long before it would give up waiting.
kill -STOP $wpid
printf '# Killed\n\ndingoique\n' >"$NOTES/killed.md"
search_while dingoique -KILL
expect_eq "$RC" 0 "a search whose watcher is killed ends before its wait would"
expect_eq "$OUT" "killed.md" "and finds the note by its own walk"
wait $wpid 2>/dev/null
run "$BIN" -C "$NOTES" index
expect_match "$ERR" "^cnsearch: [0-9]+ notes:" "with no watcher, index walks again"

# automerge: FTS5's 'automerge' setting in note_fts, note_tri and page_fts
# ("-" where the index has none: FTS5's default)
automerge() {
  python3 - "$NOTES/.cnsearch/index.db" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
v = []
for t in ("note_fts", "note_tri", "page_fts"):
    r = db.execute("SELECT v FROM %s_config WHERE k = 'automerge'" % t).fetchone()
    v.append("-" if r is None else str(r[0]))
print(" ".join(v))
EOF
}

# start_watcher: a watcher in the background ($wpid), once `index` defers
# to it
start_watcher() {
  "$BIN" -C "$NOTES" -q watch 2>"$TMP/watch.err" &
  wpid=$!
  i=0
  until "$BIN" -C "$NOTES" index 2>&1 | grep -q "kept fresh by"; do
    sleep 0.1; i=$((i + 1))
    [ $i -lt 100 ] || break
  done
}

# The watcher leaves its commits in INDEX-wal and copies them into the
# index file only once the WAL holds 1,000 pages, after the searches have
# their answers (checkpoint()): killed before that, it loses none of them.
start_watcher
n=0
while [ $n -lt 5 ]; do
  printf '# Walled %d\n\nwalledique%d\n' $n $n >"$NOTES/walled$n.md"
  "$BIN" -C "$NOTES" -q index
  n=$((n + 1))
done
kill -KILL $wpid
wait $wpid 2>/dev/null
[ -s "$NOTES/.cnsearch/index.db-wal" ] && pass || fail "the killed watcher's commits are in INDEX-wal"
CNSEARCH_WATCH=never run "$BIN" -C "$NOTES" --no-update -l -n 0 'walledique*'
expect_eq "$(printf '%s\n' "$OUT" | sort | tr '\n' ' ')" "walled0.md walled1.md walled2.md walled3.md walled4.md " \
  "a search after the watcher was killed finds every note it had indexed"
# While a watcher runs it alone does FTS5's merges: 'automerge' is 0 in
# the index's three FTS5 tables (store_automerge()).  One killed outright
# cannot set it back; the next update made without a watcher does.
expect_eq "$(automerge)" "0 0 0" "a killed watcher leaves FTS5's automatic merges off"
printf '\nwalledmend\n' >>"$NOTES/walled0.md"
CNSEARCH_WATCH=never run "$BIN" -C "$NOTES" -q index
expect_rc 0 "an update with no watcher running"
expect_eq "$(automerge)" "4 4 4" "turns them back on"

# Between updates the watcher does FTS5's merge work itself (merge() in
# indexer/watch.c, store_merge()): large notes, each updated through the
# watcher, leave merges of large segments under way, which it finishes
# with FTS5's 'merge' command.  The index it leaves must be the index a
# fresh build gives (`cnsearch check` compares them, term by term).
"$BIN" -C "$NOTES" -q -n 1 '/walledi[q]ue/' >/dev/null # build the regex index
start_watcher
expect_eq "$(automerge)" "0 0 0" "a running watcher turns FTS5's automatic merges off"
n=0
while [ $n -lt 8 ]; do
  awk -v n=$n 'BEGIN { srand(n + 1); printf "# Big %d\n\nbigmergeword%d\n", n, n
    for (i = 0; i < 12000; i++) printf "m%x%s", int(rand() * 4000000), (i % 12 == 11 ? "\n" : " ") }' >"$NOTES/big$n.md"
  "$BIN" -C "$NOTES" -q index
  printf '\nappended to big %d\n' $n >>"$NOTES/big$n.md"
  "$BIN" -C "$NOTES" -q index
  n=$((n + 1))
done
sleep 1 # the merge work after the last update
kill -TERM $wpid
wait $wpid
expect_eq "$?" 0 "the watcher ends with 0 on SIGTERM"
expect_eq "$(automerge)" "4 4 4" "and turns FTS5's automatic merges back on"
CNSEARCH_WATCH=never run "$BIN" -C "$NOTES" check
expect_rc 0 "the index the watcher merged between updates checks out ($ERR)"
CNSEARCH_WATCH=never run "$BIN" -C "$NOTES" --no-update -l -n 0 'bigmergeword*'
expect_eq "$(printf '%s\n' "$OUT" | wc -l | tr -d ' ')" 8 "and finds all 8 large notes"
finish
