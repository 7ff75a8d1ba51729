#!/bin/sh
# serve.sh -- searches answered by the running watcher (cli/serve.c,
# indexer/serve.c).
#
# With `cnsearch watch` running, a search hands itself to the watcher
# over INDEX-sync/.sock instead of opening the index.  What it prints,
# on stdout and stderr, and its exit status must be exactly what the
# same search prints in its own process; strace shows which of the two
# ran.  The watcher must decline what it cannot answer the same way (a
# changed config), stay up through bad requests and vanished askers,
# and a search must never print twice or hang when the watcher is
# stopped or killed.
. "$(dirname "$0")/lib.sh"
setup
cd "$NOTES" # results are printed relative to the current folder
command -v strace >/dev/null || { fail "strace is needed (make test installs it)"; finish; exit 1; }
SYNC=$NOTES/.cnsearch/index.db-sync
run "$BIN" -C "$NOTES" -q index
expect_rc 0 "first index"
# more notes, for an answer larger than one socket message
mkdir "$NOTES/bulk"
i=0
while [ $i -lt 300 ]; do
  printf '# Bulk %d\n\nkiwique text for a long answer, note %d of many.\n' $i $i >"$NOTES/bulk/b$i.md"
  i=$((i + 1))
done
# two notes of the same name, each linked from its own folder: a note
# named by a relative path is found from the searcher's folder
for t in 1 2; do
  mkdir "$NOTES/twin$t"
  printf '# Twin %d\n\nplain text\n' $t >"$NOTES/twin$t/twin.md"
  printf '# Linker %d\n\ntwinlinkword, see [the twin](twin.md)\n' $t >"$NOTES/twin$t/linker.md"
done
run "$BIN" -C "$NOTES" -q index
expect_rc 0 "index the bulk notes"

# alive: the watcher runs (a crashed child is a zombie until waited for,
# and kill -0 succeeds on a zombie)
alive() {
  [ -r "/proc/$wpid/stat" ] && [ "$(sed 's/.*) //' "/proc/$wpid/stat" | cut -c1)" != Z ]
}

start_watcher() {
  "$BIN" -C "$NOTES" -q watch 2>"$TMP/watch.err" &
  wpid=$!
  i=0
  while [ ! -S "$SYNC/.sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  [ -S "$SYNC/.sock" ] && pass || fail "the watcher listens on INDEX-sync/.sock"
}

# served CMD...: run it under strace; $SERVED is 1 if it was answered by
# the watcher (it connected, and never opened the index file).
served() {
  # LeakSanitizer cannot run under ptrace: the sanitizer build's leak
  # check is left to the runs outside strace
  ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
    strace -f -qq -e trace=connect,openat -o "$TMP/trace" "$@" >"$TMP/out" 2>"$TMP/err"
  RC=$?
  OUT=$(cat "$TMP/out")
  ERR=$(cat "$TMP/err")
  SERVED=0
  if grep -q 'index.db-sync/.sock' "$TMP/trace" && ! grep -q 'index\.db"' "$TMP/trace"; then
    SERVED=1
  fi
}

# The searches compared: each line is the arguments of one search, run
# from the folder named first ("." for the notes root).
cat >"$TMP/cases" <<'EOF'
. MoE
. --no-update MoE
. --color=always MoE
. --json MoE
. --vimgrep MoE
. -l MoE
. -c MoE
. -l --null MoE
. --sort path -n 3 MoE
. --absolute -l MoE
. --explain -n 2 MoE
. -n 0 --json kiwique
. moee
. /(MoE/
. --no-update /expert[s]?/
. path:/^papers\// attention
. tag:inference
papers MoE
papers --vimgrep -n 0 kiwique
twin1 -l links-to:twin.md twinlinkword
twin2 --json linked-from:./linker.md
EOF

# case K LINE: run the search on LINE from its folder; its stdout and
# stderr are left in $TMP/out and $TMP/err, "exit-status served" in $RES.
case_run() {
  set -f # the arguments hold regex brackets, not file patterns
  # shellcheck disable=SC2086 # one word per argument
  set -- $2
  set +f
  dir=$1; shift
  RES=$(cd "$NOTES/$dir" && { served "$BIN" "$@" </dev/null; echo "$RC $SERVED"; })
}

start_watcher
k=0
while IFS= read -r line; do
  k=$((k + 1))
  case_run $k "$line"
  cp "$TMP/out" "$TMP/served$k.out"
  cp "$TMP/err" "$TMP/served$k.err"
  echo "$RES" >"$TMP/served$k.rc"
  expect_eq "${RES#* }" 1 "'$line' is answered by the watcher"
  # once more outside strace (leak-checked in the sanitizer build)
  set -f
  # shellcheck disable=SC2086 # one word per argument
  set -- $line
  set +f
  dir=$1; shift
  rc=$(cd "$NOTES/$dir" && { "$BIN" "$@" >"$TMP/out" 2>"$TMP/err" </dev/null; echo $?; })
  expect_eq "$rc" "${RES% *}" "'$line': the same exit status outside strace"
  cmp -s "$TMP/out" "$TMP/served$k.out" && cmp -s "$TMP/err" "$TMP/served$k.err" && pass ||
    fail "'$line': the same output outside strace ($(cat "$TMP/err"))"
done <"$TMP/cases"
[ "$(wc -c <"$TMP/served12.out")" -gt 65536 ] && pass || fail "the kiwique answer is larger than 64 KiB"

# A changed note is seen by the next search, which the watcher answers
# after catching up.
n=0 missed="" unserved=0
while [ $n -lt 10 ]; do
  printf '# Fresh %d\n\nnumbatserve%d\n' $n $n >"$NOTES/fresh$n.md"
  served "$BIN" -l "numbatserve$n"
  [ "$OUT" = "fresh$n.md" ] || missed="$missed $n:$OUT"
  [ "$SERVED" = 1 ] || unserved=$((unserved + 1))
  rm "$NOTES/fresh$n.md"
  n=$((n + 1))
done
expect_eq "$missed" "" "a served search right after a change sees it (10 new notes)"
expect_eq "$unserved" 0 "and each of them was answered by the watcher"
# The same while the watcher is held up, so that the note's events and
# the search reach it together: it must catch up before it answers.
n=0 missed=""
while [ $n -lt 5 ]; do
  sleep 0.2 # the last removal applied: the watcher is idle in its poll
  kill -STOP $wpid
  # SIGSTOP takes effect asynchronously: wait until the watcher is stopped
  while [ "$(cut -d' ' -f3 "/proc/$wpid/stat")" != T ]; do sleep 0.01; done
  printf '# Held %d\n\nquollserve%d\n' $n $n >"$NOTES/held$n.md"
  ( served "$BIN" -l "quollserve$n"; echo "$SERVED $OUT" >"$TMP/held.res" ) &
  spid=$!
  sleep 0.15 # the search has connected, and waits (250 ms) for the watcher
  kill -CONT $wpid
  wait $spid
  [ "$(cat "$TMP/held.res")" = "1 held$n.md" ] || missed="$missed $n:$(cat "$TMP/held.res")"
  rm "$NOTES/held$n.md"
  n=$((n + 1))
done
expect_eq "$missed" "" "a search that reaches the watcher with the change's events is served, and sees it"
# The same behind a flood of events that name no note (600 hidden files
# made, about 38 KB of events, more than one read of the inotify
# descriptor takes): the watcher reads on until its own cookie's event,
# which comes after the note's.
sleep 0.2
kill -STOP $wpid
while [ "$(cut -d' ' -f3 "/proc/$wpid/stat")" != T ]; do sleep 0.01; done
i=0
while [ $i -lt 600 ]; do
  : >"$NOTES/.flood$i"
  i=$((i + 1))
done
printf '# Flooded\n\nwombatserve\n' >"$NOTES/flooded.md"
( served "$BIN" -l wombatserve; echo "$SERVED $OUT" >"$TMP/held.res" ) &
spid=$!
sleep 0.15
kill -CONT $wpid
wait $spid
expect_eq "$(cat "$TMP/held.res")" "1 flooded.md" "a search behind a flood of other events is served, and sees the note written last"
rm -f "$NOTES"/.flood* "$NOTES/flooded.md"
run "$BIN" -C "$NOTES" index # the watcher applies the removals
expect_rc 0 "index through the watcher"

# A --no-update regex search does not build the regex index, served or not.
served "$BIN" --no-update '/numbat[s]erve/'
expect_eq "$SERVED" 1 "a --no-update regex search is served"
expect_no_match "$ERR" "built the regex index" "and builds no regex index"

# A config changed after the watcher started: the watcher declines, and
# the search, in its own process, reads the new config.
mkdir -p "$NOTES/.cnsearch"
printf 'limit = 2\n' >"$NOTES/.cnsearch/config"
served "$BIN" -l kiwique
expect_eq "$SERVED" 0 "a search is not served once the config changed"
expect_eq "$(printf '%s\n' "$OUT" | wc -l | tr -d ' ')" 2 "and obeys the new limit"
rm "$NOTES/.cnsearch/config"

# Requests that are not searches: the watcher drops them and goes on.
python3 - "$SYNC/.sock" "$NOTES" "$BIN" <<'EOF'
import socket, sys
for data in [b"", b"X", b"Q", b"Q\0", b"Q\0query=a\0", b"Q\0junk", b"Q\1" + b"a" * 70000]:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(sys.argv[1])
    try:
        s.send(data)
    except OSError:
        pass
    s.settimeout(2)
    try:
        s.recv(100)
        s.recv(100)
    except OSError:
        pass
    s.close()
# askers that go away without reading their answer (a large one, which
# the watcher prints into its memory file and sends to nobody)
import os
st = os.stat(sys.argv[3])
program = "%d:%d:%d.%09d" % (st.st_dev, st.st_ino, st.st_mtime_ns // 10**9, st.st_mtime_ns % 10**9)
req = "query=kiwique\0root=%s\0cwd=%s\0program=%s\0color=never\0sort=rank\0limit=0\0flags=j\0" % (
    os.path.realpath(sys.argv[2]), sys.argv[2], program)
for _ in range(5):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(sys.argv[1])
    s.send(b"Q\0" + req.encode())
    s.close()
EOF
alive && pass || fail "the watcher survives malformed requests and askers that leave"
served "$BIN" -l MoE
expect_eq "$SERVED" 1 "and answers the next search"
expect_match "$OUT" "^topics/mixture-of-experts.md" "with the right notes"

# A reader that stops reading: the answer is ours to write, so a closed
# pipe ends the search (SIGPIPE), as it would a search run here.
{ "$BIN" -n 0 --json kiwique; echo $? >"$TMP/pipe.rc"; } | head -c 10 >/dev/null
expect_eq "$(cat "$TMP/pipe.rc")" 141 "a search whose reader leaves ends by SIGPIPE"
alive && pass || fail "the watcher survives a closed pipe"

# Served searches leave no descriptor open in the watcher.
fds=$(ls "/proc/$wpid/fd" | wc -l)
i=0
while [ $i -lt 20 ]; do "$BIN" -n 0 --json kiwique >/dev/null; "$BIN" nosuchwordzz 2>/dev/null; i=$((i + 1)); done
expect_eq "$(ls "/proc/$wpid/fd" | wc -l)" "$fds" "40 served searches leave the watcher's descriptors as they were"

# Another process holds the index past SQLite's busy timeout (10 s): the
# watcher's update of a note written meanwhile fails, and a full update
# is due a second later.  A search that comes in that second must get
# that full update first, not an answer from the index without the note.
hold_lock "$NOTES/.cnsearch/index.db" 11
hpid=$!
sleep 0.5
printf '# Locked\n\nwombatlocked\n' >"$NOTES/locked.md"
wait $hpid
served "$BIN" -l wombatlocked
expect_eq "$SERVED $OUT" "1 locked.md" "a search served while a full update is due sees the note the failed update missed"
rm "$NOTES/locked.md"
run "$BIN" index
expect_rc 0 "index through the watcher after the lock"

# A stopped watcher, and more searches than its queue holds: each one
# either waits its quarter second or finds the queue full, then runs by
# itself; none hangs.
kill -STOP $wpid
while [ "$(sed 's/.*) //' "/proc/$wpid/stat" | cut -c1)" != T ]; do sleep 0.01; done
i=0 pids=""
while [ $i -lt 70 ]; do
  ( timeout -k 5 30 "$BIN" --no-update -l MoE >/dev/null 2>&1; echo $? >"$TMP/many.$i" ) &
  pids="$pids $!"
  i=$((i + 1))
done
# shellcheck disable=SC2086 # one pid per word
wait $pids
expect_eq "$(cat "$TMP"/many.* | grep -c '^0$')" 70 "70 searches at once with the watcher stopped all end by themselves"
rm -f "$TMP"/many.*
kill -CONT $wpid
sleep 0.5
alive && pass || fail "the watcher goes on after a stopped spell with a full queue"

# A stopped watcher: the search waits a quarter of a second for it to
# take the request, then runs by itself; nothing is printed twice.
kill -STOP $wpid
run timeout 30 "$BIN" --no-update -l MoE
expect_rc 0 "a --no-update search with a stopped watcher ends"
expect_eq "$(printf '%s\n' "$OUT" | grep -c mixture-of-experts)" 1 "and prints its hits once"
kill -CONT $wpid
sleep 0.3
served "$BIN" -l MoE
expect_eq "$SERVED" 1 "the watcher answers again once continued"

# Another program file (an upgrade replaced the one the watcher runs):
# the watcher declines, and the search runs in its own process.
cp "$BIN" "$TMP/cnsearch-copy"
served "$TMP/cnsearch-copy" -l MoE
expect_eq "$SERVED" 0 "a search by another program file is not served"
expect_match "$OUT" "^topics/mixture-of-experts.md" "and runs by itself"
rm "$TMP/cnsearch-copy"

# A wrong setting in the environment is reported before any asking.
CNSEARCH_WATCH=sometimes served "$BIN" -l MoE
expect_eq "$RC" 2 "a bad CNSEARCH_WATCH is an error with a watcher running too"
expect_eq "$SERVED$OUT" 0 "and nothing is asked or printed"
expect_match "$ERR" "CNSEARCH_WATCH is 'sometimes'" "it says what is wrong"

# A search whose asker goes away (killed, as an editor kills the search
# of the query it no longer shows) is cut short: the watcher is free for
# the next search at once, not when the abandoned one would have ended.
# The regex has no literal to narrow it down, and it backtracks 2^16 ways
# through each 16-letter word of these 600 notes, which hold no digit for
# it to end on: seconds, where the next search waits a quarter of a
# second for the watcher before it runs by itself.
mkdir "$NOTES/slow"
python3 - "$NOTES/slow" <<'EOF'
import random, sys
r = random.Random(3)
for i in range(600):
    words = ("".join(r.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(16))
             for _ in range(10))
    with open("%s/s%03d.md" % (sys.argv[1], i), "w") as f:
        f.write("# Slow note\n\n%s\n" % " ".join(words))
EOF
run "$BIN" index
expect_rc 0 "index the slow notes through the watcher"
"$BIN" --no-update -c -- 'path:/^slow\//' '/(?:\w+)+\d/' >/dev/null 2>&1 &
apid=$!
sleep 0.5
kill -KILL $apid
wait $apid 2>/dev/null
served "$BIN" --no-update -l MoE
expect_eq "$SERVED" 1 "a search right after an abandoned slow one is answered by the watcher"
expect_match "$OUT" "^topics/mixture-of-experts.md" "with the right notes"
alive && pass || fail "the watcher goes on after cutting a search short"
rm -r "$NOTES/slow"
run "$BIN" index
expect_rc 0 "the slow notes removed through the watcher"

# The watcher ends cleanly on SIGTERM and takes its socket with it.
kill -TERM $wpid
wait $wpid
expect_eq "$?" 0 "the watcher exits 0 on SIGTERM"
[ ! -e "$SYNC/.sock" ] && pass || fail "its socket is removed"
expect_eq "$(stat -c %a "$SYNC")" 700 "INDEX-sync/ is the user's alone"

# The same searches, each in its own process now: the same output.
k=0
while IFS= read -r line; do
  k=$((k + 1))
  case_run $k "$line"
  read -r rc was <"$TMP/served$k.rc"
  expect_eq "$RES" "$rc 0" "'$line': exit status, and run in its own process"
  cmp -s "$TMP/out" "$TMP/served$k.out" && pass || fail "'$line': stdout differs when served"
  cmp -s "$TMP/err" "$TMP/served$k.err" && pass || fail "'$line': stderr differs when served ($(cat "$TMP/served$k.err") / $(cat "$TMP/err"))"
done <"$TMP/cases"

# A config the watcher started with, then edited (same size): declined.
printf 'limit = 5\n' >"$NOTES/.cnsearch/config"
start_watcher
served "$BIN" -l kiwique
expect_eq "$SERVED" 1 "a watcher started with a config answers"
expect_eq "$(printf '%s\n' "$OUT" | wc -l | tr -d ' ')" 5 "with its limit"
printf 'limit = 3\n' >"$NOTES/.cnsearch/config"
served "$BIN" -l kiwique
expect_eq "$SERVED" 0 "an edited config is read by the search itself"
expect_eq "$(printf '%s\n' "$OUT" | wc -l | tr -d ' ')" 3 "with the new limit"
rm "$NOTES/.cnsearch/config"

# A watcher killed outright leaves its socket: searches still work.
kill -KILL $wpid
wait $wpid 2>/dev/null
run timeout 30 "$BIN" --no-update -l MoE
expect_rc 0 "a search after the watcher was killed"
expect_match "$OUT" "^topics/mixture-of-experts.md" "runs by itself"
finish
