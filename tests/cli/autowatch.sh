#!/bin/sh
# autowatch.sh -- the watcher a search leaves behind (cli/autowatch.c).
#
# After walking a large folder, a search or `cnsearch index` starts
# `cnsearch watch` in the background, so that the next search asks it
# instead of walking.  The corpus is small, so most of these tests set
# CNSEARCH_WATCH=always; one checks that the default leaves a small
# folder alone.  They check that the watcher comes up detached (a
# command substitution returns at once), answers searches, is started
# once, ends by itself when idle or when its index goes, and that one
# that failed is not started again and again.
. "$(dirname "$0")/lib.sh"
setup
cd "$NOTES"
printf '# Aw\n\nlyrebirdzest\n' >"$NOTES/aw.md"
LOCK=$NOTES/.cnsearch/index.db-watch

# watcher_pid: the pid a running watcher wrote into the lock, or nothing
watcher_pid() {
  sed -n 's/^pid \([0-9][0-9]*\).*/\1/p' "$LOCK" 2>/dev/null
}

# wait_gone PID SECONDS: 0 once the process is gone
wait_gone() {
  i=0
  while kill -0 "$1" 2>/dev/null && [ $i -lt $(($2 * 10)) ]; do
    sleep 0.1; i=$((i + 1))
  done
  ! kill -0 "$1" 2>/dev/null
}

# wait_watcher: until `index` defers to a watcher (5 s at most)
wait_watcher() {
  i=0
  while [ $i -lt 50 ]; do
    CNSEARCH_WATCH=never "$BIN" index 2>"$TMP/probe" &&
      grep -q "kept fresh by 'cnsearch watch'" "$TMP/probe" && return 0
    sleep 0.1; i=$((i + 1))
  done
  return 1
}

# By default a folder of a few notes gets no watcher.
run "$BIN" -l fsdp
expect_rc 0 "a search by default"
run "$BIN" index
expect_no_match "$ERR" "kept fresh" "no watcher for a small folder by default"
[ -z "$(watcher_pid)" ] && pass || fail "no watcher pid in the lock by default"

# always: a search starts one, and returns at once all the same
mkdir -p "$NOTES/.cnsearch"
printf 'watch.idle = 3s\n' >"$NOTES/.cnsearch/config"
got=$(CNSEARCH_WATCH=always timeout 10 "$BIN" -l lyrebirdzest 2>&1)
expect_eq "$?:$got" "0:aw.md" "a search that starts a watcher returns at once"
wait_watcher && pass || fail "the search left a watcher behind ($(cat "$TMP/probe"))"
pid=$(watcher_pid)
[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && pass || fail "the lock names the live watcher ('$pid')"

# it answers searches: a note changed just now is found
printf '\nquokkabright\n' >>"$NOTES/papers/fsdp.md"
got=$(CNSEARCH_WATCH=always "$BIN" -l quokkabright 2>&1)
expect_eq "$got" "papers/fsdp.md" "a search through the background watcher sees a change at once"
expect_eq "$(watcher_pid)" "$pid" "searches do not start a second watcher"

# a second background watcher is told who keeps the index
expect_match "$(cat "$LOCK")" "^pid $pid background$" "the lock says the watcher runs in the background"
run "$BIN" -q watch --idle=1m
expect_rc 2 "a second watcher"
expect_match "$ERR" "^cnsearch: another 'cnsearch watch' \\(pid $pid\\) is already keeping .*; 'kill $pid' stops it$" \
  "the second watcher names the first"

# idle: no search for watch.idle (3 s), and it ends by itself
wait_gone "$pid" 10 && pass || fail "the background watcher ends when idle"
run "$BIN" --no-update -l quokkabright
expect_eq "$OUT" "papers/fsdp.md" "what it indexed stays"

# its index removed: it ends within a second or two (this one has the
# default idle time, 7 days)
rm "$NOTES/.cnsearch/config"
if command -v script >/dev/null 2>&1; then # on a terminal it says so
  script -qc "CNSEARCH_WATCH=always '$BIN' -l fsdp" /dev/null >"$TMP/tty.out" 2>&1
  expect_match "$(cat "$TMP/tty.out")" "^cnsearch: started 'cnsearch watch' in the background to keep this index of [0-9]+ notes fresh; it stops after 7 days without a search" \
    "a search on a terminal says it started a watcher"
else
  CNSEARCH_WATCH=always "$BIN" -l fsdp >/dev/null 2>&1
fi
wait_watcher && pass || fail "a second background watcher"
pid=$(watcher_pid)
rm -f "$NOTES/.cnsearch/index.db" "$NOTES/.cnsearch/index.db-wal" "$NOTES/.cnsearch/index.db-shm"
wait_gone "$pid" 5 && pass || fail "the watcher ends when its index is removed"
run "$BIN" -l quokkabright
expect_eq "$OUT" "papers/fsdp.md" "a new index after the old one went"

# a watcher run by hand (a systemd unit's, say) takes over from one in
# the background
CNSEARCH_WATCH=always "$BIN" -l fsdp >/dev/null 2>&1
wait_watcher && pass || fail "a third background watcher"
pid=$(watcher_pid)
"$BIN" -q watch 2>"$TMP/fg.err" &
fg=$!
wait_gone "$pid" 5 && pass || fail "a watcher run by hand stops the background one"
i=0
while [ "$(watcher_pid)" != "$fg" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
expect_eq "$(cat "$LOCK")" "pid $fg" "and holds the lock itself"
kill -INT $fg
wait $fg
expect_eq "$?:$(cat "$TMP/fg.err")" "0:" "and stops on Ctrl-C, silently"

# never: nothing is started
CNSEARCH_WATCH=never "$BIN" -l fsdp >/dev/null 2>&1
run env CNSEARCH_WATCH=never "$BIN" index
expect_no_match "$ERR" "kept fresh" "CNSEARCH_WATCH=never starts no watcher"
printf 'watch = never\n' >"$NOTES/.cnsearch/config"
"$BIN" -l fsdp >/dev/null 2>&1
run env CNSEARCH_WATCH=never "$BIN" index
expect_no_match "$ERR" "kept fresh" "watch = never in the config starts no watcher"
rm "$NOTES/.cnsearch/config"

# a watcher that cannot start says why in the lock, and is not started
# again: INDEX-sync/ is a file here, which it cannot watch
SYNC=$NOTES/.cnsearch/index.db-sync
rm -rf "$SYNC"
: >"$SYNC"
CNSEARCH_WATCH=always "$BIN" -l fsdp >/dev/null 2>&1
i=0
while ! grep -q '^failed:' "$LOCK" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
expect_match "$(cat "$LOCK")" "^failed: cannot watch '.*index.db-sync': Not a directory$" \
  "a failed watcher leaves its reason"
before=$(cat "$LOCK")
rm "$SYNC" # a watcher started now would come up, and write its pid
CNSEARCH_WATCH=always "$BIN" -l fsdp >/dev/null 2>&1
sleep 1
expect_eq "$(cat "$LOCK")" "$before" "a watcher that failed within the hour is not started again"

# bad settings are one-line errors, exit 2
run env CNSEARCH_WATCH=sometimes "$BIN" -l fsdp
expect_rc 2 "a bad CNSEARCH_WATCH"
expect_eq "$ERR" "cnsearch: CNSEARCH_WATCH is 'sometimes'; set it to auto, never or always" \
  "CNSEARCH_WATCH message"
printf 'watch = sometimes\n' >"$NOTES/.cnsearch/config"
run "$BIN" -l fsdp
expect_rc 2 "a bad watch setting"
expect_match "$ERR" "^cnsearch: bad setting 'watch' in config '.*' line 1: watch is auto, never or always$" \
  "watch setting message"
printf 'watch.idle = soon\n' >"$NOTES/.cnsearch/config"
run "$BIN" -l fsdp
expect_match "$ERR" "watch.idle is a time such as 90s, 30m, 2h or 7d$" "watch.idle setting message"
for t in 2w 0d -1d; do
  printf 'watch.idle = %s\n' "$t" >"$NOTES/.cnsearch/config"
  run "$BIN" -l fsdp
  expect_rc 2 "watch.idle = $t is refused"
done
printf 'watch.idle = 2d\n' >"$NOTES/.cnsearch/config"
run env CNSEARCH_WATCH=never "$BIN" -l lyrebirdzest
expect_eq "$RC:$OUT" "0:aw.md" "watch.idle in days"
rm "$NOTES/.cnsearch/config"
run "$BIN" watch --idle=later
expect_rc 2 "a bad --idle"
expect_match "$ERR" "^cnsearch: --idle wants a time such as 90s, 30m, 2h or 7d, not 'later'" "--idle message"

# By default a folder of 1,000 notes (AUTOWATCH_MIN) gets a watcher, and
# one of 999 does not.
MANY=$TMP/many
python3 - "$MANY" <<'PY'
import os, sys
for i in range(999):
    d = os.path.join(sys.argv[1], "d%02d" % (i // 100))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "n%04d.md" % i), "w") as f:
        f.write("tiny note %d\n" % i)
PY
MLOCK=$MANY/.cnsearch/index.db-watch
# background_watcher WHAT: a watcher started in the background for $MANY
# runs (within 5 s); it is stopped again
background_watcher() {
  i=0
  until mpid=$(sed -n 's/^pid \([0-9][0-9]*\) background$/\1/p' "$MLOCK" 2>/dev/null) &&
    [ -n "$mpid" ] || [ $i -ge 50 ]; do sleep 0.1; i=$((i + 1)); done
  [ -n "$mpid" ] && kill -0 "$mpid" 2>/dev/null && pass || fail "$1"
  [ -z "$mpid" ] || { kill "$mpid"; wait_gone "$mpid" 5; }
}
run "$BIN" -C "$MANY" -l zqnothing
expect_rc 1 "a search of 999 notes"
run env CNSEARCH_WATCH=never "$BIN" -C "$MANY" index
expect_no_match "$ERR" "kept fresh" "no watcher for 999 notes by default"
printf 'zqonethousand\n' >"$MANY/d09/last.md"
run "$BIN" -C "$MANY" -l zqonethousand
expect_eq "$RC:$OUT" "0:$MANY/d09/last.md" "a search of 1,000 notes"
background_watcher "1,000 notes get a watcher by default"
rm -f "$MLOCK"

# A --no-update search walks nothing; it goes by the number of notes the
# index holds.
rm "$MANY/d09/last.md"
run env CNSEARCH_WATCH=never "$BIN" -C "$MANY" index
expect_rc 0 "999 notes again"
run "$BIN" -C "$MANY" --no-update -l zqnothing
expect_rc 1 "a --no-update search of an index of 999 notes"
sleep 0.5
run env CNSEARCH_WATCH=never "$BIN" -C "$MANY" index
expect_no_match "$ERR" "kept fresh" "no watcher for a --no-update search of 999 notes"
printf 'zqonethousand\n' >"$MANY/d09/last.md"
run env CNSEARCH_WATCH=never "$BIN" -C "$MANY" index
expect_rc 0 "1,000 notes again"
run "$BIN" -C "$MANY" --no-update -l zqonethousand
expect_eq "$RC:$OUT" "0:$MANY/d09/last.md" "a --no-update search of an index of 1,000 notes"
background_watcher "it leaves a watcher behind"

# a watcher run by hand with --idle ends by itself, exit 0
rm -f "$LOCK"
start=$(date +%s)
run timeout 20 "$BIN" -q watch --idle=2s
expect_rc 0 "watch --idle=2s ends by itself"
took=$(($(date +%s) - start))
[ "$took" -ge 2 ] && [ "$took" -le 6 ] && pass || fail "watch --idle=2s took ${took}s"

finish
