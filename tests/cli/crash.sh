#!/bin/sh
# crash.sh -- SIGKILL the indexer at random moments (issue 7, "Crash
# safety").  On a generated corpus of about CRASH_MB megabytes of notes,
# kill `cnsearch index --rebuild` CRASH_KILLS times (default 30) after a
# random delay within the time a whole rebuild takes, and kill a large
# incremental update (a quarter of the notes changed) CRASH_KILLS times
# more.  After every kill: `cnsearch index` completes, `cnsearch check`
# passes, and a few `-l -n 0` queries answer exactly what a clean build
# answers for the notes as they are.  The first build is killed once too.
# CRASH_SEED fixes the random delays (it is printed, so a failing run can
# be repeated).
#
# The default, CRASH_MB=10, keeps the test under a minute on two idle
# cores (a run costs about CRASH_KILLS times half a rebuild plus half an
# update, plus a check after each); CRASH_MB=20 or more, the issue's
# size, takes about 95 s (first build 0.8 s, rebuild 2.8 s) and is for
# running by hand.
. "$(dirname "$0")/lib.sh"
# the indexer's own writes are killed: no watcher to take them over (the
# 1,300 notes of 10 MB would get one)
export CNSEARCH_WATCH=never
MB=${CRASH_MB:-10}
KILLS=${CRASH_KILLS:-30}
SEED=${CRASH_SEED:-$(date +%s)}
echo "note: $NAME: CRASH_SEED=$SEED CRASH_MB=$MB CRASH_KILLS=$KILLS"

# The corpus lives on a tmpfs when there is one: a kill is a process
# death, not a power cut, so the page cache survives it either way, and
# writing thousands of notes to a slow disk would take longer than the test.
W=$TMP
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
  W=$(mktemp -d /dev/shm/cnsearch-crash.XXXXXX) && trap 'rm -rf "$TMP" "$W"' EXIT
fi
NOTES=$W/notes
export CNSEARCH_NOTES=$NOTES
unset CNSEARCH_INDEX NO_COLOR
cd "$W"

# Notes of about 8 KB: headings, paragraphs of words from a fixed
# vocabulary, some links.  Variant "b" rewrites every fourth note (new
# words, one removed note's worth of text, a marker word) into $W/b; "a"
# keeps the originals of the same notes in $W/a, so the notes folder can
# be switched between the two states by copying one folder over it.
python3 - "$W" "$MB" 1 <<'EOF'
import os, random, sys
w, mb, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
r = random.Random(seed)
letters = "abcdefghijklmnopqrstuvwxyz"
vocab = ["".join(r.choice(letters) for _ in range(r.randint(3, 9))) for _ in range(6000)]
vocab[:4] = ["zqalpha", "zqbeta", "zqgamma", "zqdelta"]
size, n = 8000, mb * 1024 * 1024 // 8000
def note(i, variant):
    rr = random.Random(i * 2 + variant)
    out = ["# Note %d %s\n\n" % (i, vocab[i % len(vocab)])]
    total = 0
    while total < size:
        if rr.random() < 0.15:
            out.append("## %s %s\n\n" % tuple(rr.choices(vocab, k=2)))
        words = rr.choices(vocab, k=60)
        if rr.random() < 0.3:
            words[rr.randrange(60)] = "[%s](https://example.org/%d)" % (words[0], i)
        p = " ".join(words) + "\n\n"
        out.append(p)
        total += len(p)
    if variant:
        out.append("Changed: zqvariantb %s.\n" % rr.choice(vocab))
    return "".join(out)
for i in range(n):
    rel = os.path.join("d%02d" % (i % 40), "n%05d.md" % i)
    for top, variant in [("notes", 0)] + ([("a", 0), ("b", 1)] if i % 4 == 0 else []):
        os.makedirs(os.path.join(w, top, os.path.dirname(rel)), exist_ok=True)
        with open(os.path.join(w, top, rel), "w") as f:
            f.write(note(i, variant))
EOF
[ -d "$NOTES/d00" ] && pass || fail "generate the corpus"

# Delays in seconds (3 decimals), uniform in [0, $2).
delays() { # count, upper bound
  python3 -c "import random,sys; r=random.Random($SEED + $3); print(' '.join('%.3f' % (r.random() * $2) for _ in range($1)))"
}

QUERIES="zqalpha zqbeta zqvariantb zqgamma-zqdelta"
answers() { # folder for the answer files
  mkdir -p "$1"
  for q in $QUERIES; do
    "$BIN" -C "$NOTES" --no-update -l -n 0 -- "$(printf '%s' "$q" | tr - ' ')" | sort > "$1/$q"
  done
}

# After a kill: the index completes, checks and answers like a clean build.
recovered() { # description, folder of the clean answers
  run "$BIN" -C "$NOTES" -q index
  expect_rc 0 "$1: index completes"
  run "$BIN" -C "$NOTES" check
  expect_rc 0 "$1: check passes"
  answers "$W/now"
  for q in $QUERIES; do
    if cmp -s "$W/now/$q" "$2/$q"; then pass; else
      fail "$1: '$q' answers differ from a clean build ($(wc -l < "$W/now/$q") vs $(wc -l < "$2/$q") notes)"
    fi
  done
}

# kill_at SECONDS CMD...: start CMD, SIGKILL it after SECONDS; $KRC is its
# exit status (137 when the kill landed, 0 when it had finished).
kill_at() {
  secs=$1; shift
  "$@" >/dev/null 2>"$W/kill-err" &
  pid=$!
  sleep "$secs"
  kill -9 "$pid" 2>/dev/null
  { wait "$pid"; } 2>/dev/null   # no "Killed" from the shell
  KRC=$?
}

# ---- the first build, timed, and once killed --------------------------
start=$(date +%s%N)
run "$BIN" -C "$NOTES" -q index
build_ms=$(( ($(date +%s%N) - start) / 1000000 ))
expect_rc 0 "first build"
answers "$W/clean-a"
[ -s "$W/clean-a/zqalpha" ] && pass || fail "the clean build finds zqalpha"
start=$(date +%s%N)
run "$BIN" -C "$NOTES" -q index --rebuild
rebuild_ms=$(( ($(date +%s%N) - start) / 1000000 ))
expect_rc 0 "a whole rebuild"
echo "note: $NAME: $(du -sh --exclude=.cnsearch "$NOTES" | cut -f1) of notes, $(du -sh "$NOTES/.cnsearch" | cut -f1) of index; first build ${build_ms} ms, rebuild ${rebuild_ms} ms"

rm -rf "$NOTES/.cnsearch"
kill_at "$(delays 1 "$(echo "$build_ms" | awk '{print $1 / 1000}')" 99)" "$BIN" -C "$NOTES" -q index
recovered "killed first build (exit $KRC)" "$W/clean-a"

# ---- kill --rebuild -----------------------------------------------------
landed=0
i=0
for d in $(delays "$KILLS" "$(echo "$rebuild_ms" | awk '{print $1 / 1000}')" 1); do
  i=$((i + 1))
  kill_at "$d" "$BIN" -C "$NOTES" -q index --rebuild
  case "$KRC" in
  137) landed=$((landed + 1)) ;;
  0) ;;
  *) fail "rebuild kill $i: the rebuild failed by itself (exit $KRC): $(cat "$W/kill-err")" ;;
  esac
  recovered "rebuild killed after ${d}s (kill $i)" "$W/clean-a"
done
[ "$landed" -ge $((KILLS / 2)) ] && pass ||
  fail "only $landed of $KILLS kills landed during a rebuild"

# ---- kill a large incremental update ------------------------------------
# Clean answers for state b, from a separate index built from nothing.
cp -R "$W/b/." "$NOTES/"
run "$BIN" -C "$NOTES" --index "$W/clean-b.db" -q index
expect_rc 0 "clean build of state b"
mkdir -p "$W/clean-b"
for q in $QUERIES; do
  "$BIN" -C "$NOTES" --index "$W/clean-b.db" --no-update -l -n 0 -- "$(printf '%s' "$q" | tr - ' ')" | sort > "$W/clean-b/$q"
done
[ -s "$W/clean-b/zqvariantb" ] && pass || fail "state b finds zqvariantb"
cp -R "$W/a/." "$NOTES/"
run "$BIN" -C "$NOTES" -q index
# Time the update both ways and take the shorter, so that most kills
# land while an update is still running.
update_ms=""
for state in b a; do
  cp -R "$W/$state/." "$NOTES/"
  start=$(date +%s%N)
  run "$BIN" -C "$NOTES" -q index
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  expect_rc 0 "a large update to $state"
  [ -z "$update_ms" ] || [ "$ms" -lt "$update_ms" ] && update_ms=$ms
done
echo "note: $NAME: updating $(find "$W/b" -name '*.md' | wc -l) notes takes ${update_ms} ms"
landed=0
i=0
for d in $(delays "$KILLS" "$(echo "$update_ms" | awk '{print $1 / 1000}')" 2); do
  i=$((i + 1))
  state=$([ "$state" = a ] && echo b || echo a)
  cp -R "$W/$state/." "$NOTES/"
  kill_at "$d" "$BIN" -C "$NOTES" -q index
  case "$KRC" in
  137) landed=$((landed + 1)) ;;
  0) ;;
  *) fail "update kill $i: the update failed by itself (exit $KRC): $(cat "$W/kill-err")" ;;
  esac
  recovered "update to $state killed after ${d}s (kill $i)" "$W/clean-$state"
done
[ "$landed" -ge $((KILLS / 2)) ] && pass ||
  fail "only $landed of $KILLS kills landed during an update"

cd "$TMP"
finish
