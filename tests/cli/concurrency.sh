#!/bin/sh
# concurrency.sh -- cnsearch used twice at once, and interrupted (issue 7,
# "Crash safety and concurrency"):
#   - searches while a rebuild runs never exit 2 and answer as before;
#   - two indexers at once both end 0, or the second says clearly that
#     one is running; then check passes and nothing is lost;
#   - SIGINT / SIGTERM during an update end it with exit 130 / 143, the
#     index as it was, and check passing.
. "$(dirname "$0")/lib.sh"

W=$TMP
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
  W=$(mktemp -d /dev/shm/cnsearch-conc.XXXXXX) && trap 'rm -rf "$TMP" "$W"' EXIT
fi
NOTES=$W/notes
export CNSEARCH_NOTES=$NOTES
unset CNSEARCH_INDEX NO_COLOR
cd "$W"

# About 3 MB of 8 KB notes, so that a rebuild takes a few seconds.
gen_notes "$NOTES" 400 3 20
run "$BIN" -C "$NOTES" -q index
expect_rc 0 "first build"
"$BIN" -C "$NOTES" --no-update -l -n 0 zqalpha | sort > "$W/want"
[ -s "$W/want" ] && pass || fail "zqalpha is found"

# ---- searches during a rebuild ----------------------------------------
"$BIN" -C "$NOTES" -q index --rebuild 2>"$W/rebuild-err" &
pid=$!
n=0 bad=0 wrong=0
while kill -0 "$pid" 2>/dev/null; do
  "$BIN" -C "$NOTES" --no-update -l -n 0 zqalpha > "$W/got" 2>"$W/err"
  rc=$?
  n=$((n + 1))
  if [ "$rc" -ne 0 ]; then
    bad=$((bad + 1))
    [ "$bad" -le 3 ] && fail "search --no-update during a rebuild: exit $rc: $(cat "$W/err")"
  elif ! sort "$W/got" | cmp -s - "$W/want"; then
    wrong=$((wrong + 1))
  fi
  if [ $((n % 5)) -eq 0 ]; then   # and now and then a search that updates first
    "$BIN" -C "$NOTES" -l -n 1 zqbeta >/dev/null 2>"$W/err"
    rc=$?
    [ "$rc" -eq 0 ] || { bad=$((bad + 1)); fail "search during a rebuild: exit $rc: $(cat "$W/err")"; }
  fi
done
wait "$pid"
rc=$?
expect_eq "$rc" 0 "the rebuild itself ends 0 (stderr: $(cat "$W/rebuild-err"))"
echo "note: $NAME: $n searches ran during the rebuild"
[ "$n" -ge 3 ] && pass || fail "only $n searches ran during the rebuild (too fast to test?)"
expect_eq "$bad" 0 "no search during a rebuild exits non-zero"
expect_eq "$wrong" 0 "every search during a rebuild answers as before"

# ---- two indexers at once -----------------------------------------------
two_indexers() { # description, index arguments...
  d=$1; shift
  "$BIN" -C "$NOTES" -q index "$@" 2>"$W/err1" &
  p1=$!
  sleep 0.05
  "$BIN" -C "$NOTES" -q index "$@" 2>"$W/err2" &
  p2=$!
  wait "$p1"; r1=$?
  wait "$p2"; r2=$?
  expect_eq "$r1" 0 "$d: the first indexer ends 0 (stderr: $(cat "$W/err1"))"
  if [ "$r2" -eq 0 ]; then
    pass
  else
    expect_match "$(cat "$W/err2")" "^cnsearch: .*(another cnsearch|already|running|locked)" \
      "$d: the second indexer (exit $r2) says clearly that one is running"
    expect_eq "$(wc -l < "$W/err2" | tr -d ' ')" 1 "$d: the second indexer's message is one line"
  fi
  run "$BIN" -C "$NOTES" check
  expect_rc 0 "$d: check passes afterwards"
}
two_indexers "two rebuilds at once" --rebuild
# Two first builds: one builds INDEX-new (core/db.c), the other waits for
# it and opens the index it made.
rm -rf "$NOTES/.cnsearch"
two_indexers "two first builds at once"
expect_eq "$("$BIN" -C "$NOTES" --no-update -l -n 0 zqalpha | sort)" "$(cat "$W/want")" \
  "two first builds at once: the index answers as before"
[ ! -e "$NOTES/.cnsearch/index.db-new" ] && pass || fail "two first builds at once: INDEX-new is left behind"
# Two updates at once, each with changes to make: nothing may be lost.
for i in $(seq 0 10 390); do
  printf '\nzqtwoupdates %d\n' "$i" >> "$NOTES/d$(printf %02d $((i % 20)))/n$(printf %04d "$i").md"
done
two_indexers "two updates at once"
run "$BIN" -C "$NOTES" --no-update -l -n 0 zqtwoupdates
expect_eq "$(printf '%s\n' "$OUT" | grep -c .)" 40 "two updates at once: every change is in the index"

# ---- SIGINT and SIGTERM during an update ----------------------------------
# Change a third of the notes (keeping the originals, with their mtimes),
# time a whole update, then interrupt one a third of the way in.
mkdir -p "$W/orig"
(cd "$NOTES" && find . -name 'n*[05].md' -print0 | xargs -0 cp -a --parents -t "$W/orig")
change() { # word
  find "$NOTES" -name 'n*[05].md' | while read -r f; do printf '\n%s\n' "$1" >> "$f"; done
}
restore() { cp -a "$W/orig/." "$NOTES/"; }
run "$BIN" -C "$NOTES" -q index
"$BIN" -C "$NOTES" --no-update -l -n 0 zqalpha | sort > "$W/before"
change zqtimed
start=$(date +%s%N)
run "$BIN" -C "$NOTES" -q index
ms=$(( ($(date +%s%N) - start) / 1000000 ))
expect_rc 0 "a timed update"
echo "note: $NAME: updating $(find "$W/orig" -name '*.md' | wc -l) notes takes ${ms} ms"
restore
run "$BIN" -C "$NOTES" -q index --rebuild
expect_rc 0 "back to the originals"

# One update, interrupted after $1 seconds; sets rc.
interrupt_once() { # delay, signal, index arguments...
  delay=$1 sig=$2; shift 2
  change zqinterrupted
  "$BIN" -C "$NOTES" -q index "$@" 2>"$W/int-err" &
  pid=$!
  sleep "$delay"
  kill -s "$sig" "$pid"
  wait "$pid"
  rc=$?
}

# An update that ended before the signal came must be whole: every
# changed note found.  Then back to the originals.
expect_whole() { # description
  run "$BIN" -C "$NOTES" --no-update -l -n 0 zqinterrupted
  expect_eq "$(printf '%s\n' "$OUT" | grep -c .)" "$(find "$W/orig" -name '*.md' | wc -l | tr -d ' ')" \
    "$1: the update is whole"
  restore
  "$BIN" -C "$NOTES" -q index
  run "$BIN" -C "$NOTES" check
  expect_rc 0 "$1: check passes"
}

interrupt() { # signal, want exit, description, index arguments...
  sig=$1 want=$2 d=$3; shift 3
  delay=${DELAY:-$(echo "$ms" | awk '{printf "%.3f", $1 / 3000}')}
  interrupt_once "$delay" "$sig" "$@"
  if [ "$rc" = 0 ] && [ -n "${EARLY:-}" ]; then
    # A background job starts with SIGINT ignored (POSIX), so a SIGINT sent
    # before cnsearch installs its handler is lost before cnsearch runs
    # (seen under ASan on a loaded machine).  Then the update must be
    # whole, never half.
    expect_whole "$d: signal before the handler"
    return
  fi
  # A third of a timed update's time can fall after its commit on a
  # machine whose speed varies: then the update is whole, and the signal
  # is sent again sooner, until one lands inside an update.
  tries=1
  while [ "$rc" = 0 ] && [ "$tries" -lt 5 ]; do
    expect_whole "$d: signal after the commit (${delay}s)"
    delay=$(echo "$delay" | awk '{printf "%.3f", $1 / 2}')
    tries=$((tries + 1))
    interrupt_once "$delay" "$sig" "$@"
  done
  expect_eq "$rc" "$want" "$d: exit status (stderr: $(cat "$W/int-err"))"
  if [ -s "$W/int-err" ]; then
    expect_match "$(cat "$W/int-err")" '^cnsearch: ' "$d: the message starts 'cnsearch: '"
  fi
  run "$BIN" -C "$NOTES" --no-update -l -n 0 zqinterrupted
  expect_rc 1 "$d: nothing of the interrupted update is in the index"
  "$BIN" -C "$NOTES" --no-update -l -n 0 zqalpha | sort > "$W/after"
  cmp -s "$W/before" "$W/after" && pass || fail "$d: the index answers as before"
  restore   # the files as the index knows them, mtimes and all
  run "$BIN" -C "$NOTES" check
  expect_rc 0 "$d: check passes"
  "$BIN" -C "$NOTES" -q index   # nothing to do, unless a case above failed
}
interrupt INT 130 "SIGINT during an update"
interrupt TERM 143 "SIGTERM during an update"
interrupt TERM 143 "SIGTERM during a rebuild" --rebuild
interrupt INT 130 "SIGINT during a rebuild" --rebuild
# Right at the start, while the index is being opened: never lost.
EARLY=1
for DELAY in 0.005 0.02 0.04; do
  interrupt INT 130 "SIGINT ${DELAY}s after start"
done
unset DELAY EARLY

cd "$TMP"
finish
