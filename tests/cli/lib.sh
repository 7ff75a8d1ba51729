# lib.sh -- helpers for the CLI tests (sourced, not run).
#
# Each test script sources this, calls `setup` for a private copy of
# corpus/ in a temporary folder, makes assertions with `expect_*`, and
# ends with `finish`, which prints the counts tests/run.sh reads and
# removes the temporary folder.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${CNSEARCH_BIN:-$ROOT/cnsearch}
NAME=$(basename "$0" .sh)
PASSED=0
FAILED=0
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

setup() { # a fresh copy of corpus/ at $NOTES, index inside it
  NOTES=$TMP/notes
  rm -rf "$NOTES"
  cp -R "$ROOT/corpus" "$NOTES"
  rm -rf "$NOTES/.cnsearch" # an index a developer's run left in corpus/
  export CNSEARCH_NOTES=$NOTES
  unset CNSEARCH_INDEX NO_COLOR
}

pass() { PASSED=$((PASSED + 1)); }
fail() { FAILED=$((FAILED + 1)); printf "FAIL: %s: %s\n" "$NAME" "$*"; }

# run CMD...: runs it, sets $OUT, $ERR, $RC
run() {
  "$@" >"$TMP/out" 2>"$TMP/err"
  RC=$?
  OUT=$(cat "$TMP/out")
  ERR=$(cat "$TMP/err")
}

expect_rc() { # want, description
  if [ "$RC" -eq "$1" ]; then pass; else fail "$2: exit $RC, want $1 (stderr: $ERR)"; fi
}

expect_eq() { # got, want, description
  if [ "$1" = "$2" ]; then pass; else fail "$3: got '$1', want '$2'"; fi
}

expect_match() { # text, extended regex, description
  if printf '%s\n' "$1" | grep -Eq -- "$2"; then pass; else fail "$3: '$1' does not match /$2/"; fi
}

expect_no_match() { # text, extended regex, description
  if printf '%s\n' "$1" | grep -Eq -- "$2"; then fail "$3: '$1' matches /$2/"; else pass; fi
}

# hold_lock DB SECONDS: hold DB's write lock (BEGIN IMMEDIATE) for
# SECONDS in the background, as another process's long rebuild would;
# $! is the holder's pid.
hold_lock() {
  python3 -c 'import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE"); time.sleep(float(sys.argv[2])); db.execute("ROLLBACK")' \
    "$1" "$2" &
}

finish() {
  echo "$NAME: $PASSED passed, $FAILED failed"
  echo "# counts $PASSED $FAILED"
}

# gen_notes DIR COUNT SEED FOLDERS: COUNT notes of about 8 KB in FOLDERS
# folders dNN/nNNNN.md, words from a fixed made-up vocabulary in which
# "zqalpha" and "zqbeta" are two of 6,000 (so each is in some notes).
gen_notes() {
  python3 - "$@" <<'EOF'
import os, random, sys
root, n, seed, folders = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
r = random.Random(seed)
letters = "abcdefghijklmnopqrstuvwxyz"
vocab = ["".join(r.choice(letters) for _ in range(r.randint(3, 9))) for _ in range(6000)]
vocab[:2] = ["zqalpha", "zqbeta"]
for i in range(n):
    d = os.path.join(root, "d%02d" % (i % folders))
    os.makedirs(d, exist_ok=True)
    body = "".join(" ".join(r.choices(vocab, k=60)) + "\n\n" for _ in range(20))
    with open(os.path.join(d, "n%04d.md" % i), "w") as f:
        f.write("# Note %d\n\n%s" % (i, body))
EOF
}
