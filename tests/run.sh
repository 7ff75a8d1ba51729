#!/bin/sh
# run.sh -- the whole test suite, as `make test` runs it.
#
# Runs every unit test binary in $UNIT_DIR and every tests/cli/*.sh script
# against $CNSEARCH_BIN.  Each prints "# counts PASSED FAILED" as its last
# word; this adds them up and ends with the line "N passed, N failed".
# Exit status 0 only when nothing failed and every program ran to the end.
# A program still running after $TEST_TIMEOUT seconds (default 1200; the
# slowest script takes a few minutes under the sanitizers) is stopped and
# counts as failed, so a hang costs a CI run minutes, not hours.
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${CNSEARCH_BIN:?set CNSEARCH_BIN to the program under test}"
: "${UNIT_DIR:?set UNIT_DIR to the folder of unit test binaries}"
export CNSEARCH_BIN
TEST_TIMEOUT=${TEST_TIMEOUT:-1200}
passed=0 failed=0 broken=0
log=$(mktemp)

tally() { # name, exit status
  if [ "$2" -eq 124 ] || [ "$2" -eq 137 ]; then
    echo "FAIL: $1 still running after ${TEST_TIMEOUT}s, stopped" >&2
    broken=$((broken + 1))
    return
  fi
  counts=$(grep -a '^# counts ' "$log" | tail -n 1)
  if [ -z "$counts" ]; then
    echo "FAIL: $1 ended without reporting its counts" >&2
    broken=$((broken + 1))
    return
  fi
  set -- $counts
  passed=$((passed + $3))
  failed=$((failed + $4))
}

# ONLY=pattern runs just the unit tests and scripts whose name holds it.
ONLY=${ONLY:-}
for t in "$UNIT_DIR"/test_*; do
  [ -x "$t" ] || continue
  name=$(basename "$t")
  case "$name" in *"$ONLY"*) ;; *) continue ;; esac
  timeout -k 10 "$TEST_TIMEOUT" "$t" >"$log" 2>&1
  st=$?
  grep -a -v '^# counts' "$log" | grep -a -E 'FAIL|ERROR|runtime error|Sanitizer' >&2
  grep -a -E '^[a-z_]+: [0-9]+ passed' "$log"
  tally "$name" "$st"
done

for t in "$here"/cli/*.sh; do
  name=$(basename "$t")
  case "$name" in lib.sh) continue ;; esac
  case "$name" in *"$ONLY"*) ;; *) continue ;; esac
  timeout -k 10 "$TEST_TIMEOUT" sh "$t" >"$log" 2>&1
  st=$?
  grep -a -E '^(FAIL|not ok)|runtime error|Sanitizer' "$log" >&2
  grep -a -E '^[a-z_.]+: [0-9]+ passed' "$log"
  tally "$name" "$st"
done
rm -f "$log"
failed=$((failed + broken))
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
