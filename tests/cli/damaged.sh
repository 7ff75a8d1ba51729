#!/bin/sh
# damaged.sh -- an index that is not what it should be (issue 7): bytes
# overwritten in the middle, the file truncated, replaced with text, a
# junk WAL; a full disk; a read-only index location and notes folder.
#
# A damaged index makes every command either say
#   cnsearch: index '<path>' is damaged; run 'cnsearch index --rebuild'
# (exit 2, one line, never a crash) or repair itself and answer right;
# `cnsearch index --rebuild` then always works.  A full disk and a
# read-only location give a clear one-line error and leave the last good
# index intact.
. "$(dirname "$0")/lib.sh"
setup
rm -rf "$NOTES/.cnsearch"   # a stale index a build may have left in corpus/
cd "$TMP"
IDX=$NOTES/.cnsearch/index.db
T="timeout 30"
MNT=$TMP/small RO=$TMP/ro ROOTRO=$TMP/notes-ro
cleanup() { # the mounts made below, then the temporary folder
  for m in "$ROOTRO" "$RO" "$MNT"; do umount "$m" 2>/dev/null; done
  rm -rf "$TMP"
}
trap cleanup EXIT

run $T "$BIN" -C "$NOTES" -q index
expect_rc 0 "build the index"
QUERIES="attention MoE quantization"
answers() { # file; the index at $IDX unless $1 says otherwise
  for q in $QUERIES; do
    $T "$BIN" -C "$NOTES" ${2:+--index "$2"} --no-update -l -n 0 -- "$q" | sort
  done > "$1"
}
answers "$TMP/want"
[ -s "$TMP/want" ] && pass || fail "the clean index answers"
# What each command below prints on the good index.
CMDS="--no-update@-l@MoE -l@MoE --no-update@--vimgrep@attention check index"
for cmd in $CMDS; do
  # shellcheck disable=SC2046
  $T "$BIN" -C "$NOTES" $(printf '%s' "$cmd" | tr @ ' ') > "$TMP/want-$cmd" 2>/dev/null
done
cp "$IDX" "$TMP/good.db"
size=$(wc -c < "$IDX")
echo "note: $NAME: the corpus index is $size bytes"

DAMAGED="^cnsearch: index '$IDX' is damaged( \\(.*\\))?; run 'cnsearch index --rebuild'\$"

# Every command on the damaged index: the message, or a right answer.
try_all() { # description
  for cmd in $CMDS; do
    # shellcheck disable=SC2046
    run $T "$BIN" -C "$NOTES" $(printf '%s' "$cmd" | tr @ ' ')
    d="$1: cnsearch $(printf '%s' "$cmd" | tr @ ' ')"
    case "$RC" in
    2)
      expect_match "$ERR" "$DAMAGED" "$d: says the index is damaged"
      expect_eq "$(printf '%s\n' "$ERR" | wc -l | tr -d ' ')" 1 "$d: one line" ;;
    0|1)
      if [ "$cmd" = check ]; then pass   # check found it sound, or repaired it
      elif [ "$cmd" = index ]; then
        # An update reads only what it needs: damage in pages it never
        # touched is not its to find, but check must then report it.
        run $T "$BIN" -C "$NOTES" check
        if [ "$RC" -eq 0 ]; then pass
        else expect_match "$ERR" "$DAMAGED" "$d: index left it; check reports the damage"; fi
      else
        printf '%s\n' "$OUT" | cmp -s - "$TMP/want-$cmd" && pass ||
          fail "$d: exit $RC but the answer differs from the good index's (it neither repaired nor refused)"
      fi ;;
    124) fail "$d: hangs" ;;
    *) fail "$d: exit $RC (crash?): $ERR" ;;
    esac
  done
  run $T "$BIN" -C "$NOTES" -q index --rebuild
  expect_rc 0 "$1: index --rebuild works"
  [ "$RC" -eq 0 ] || return   # the rest would only repeat this failure
  run $T "$BIN" -C "$NOTES" check
  expect_rc 0 "$1: check passes after the rebuild"
  answers "$TMP/got"
  cmp -s "$TMP/got" "$TMP/want" && pass || fail "$1: answers after the rebuild equal a clean build's"
}

fresh_index() { rm -f "$IDX" "$IDX-wal" "$IDX-shm"; cp "$TMP/good.db" "$IDX"; }

# Bytes overwritten in the middle (several spots, so that tables and the
# word index are hit, not only free space).
fresh_index
for frac in 3 2 1; do
  python3 - "$IDX" "$frac" <<'EOF'
import os, random, sys
path, frac = sys.argv[1], int(sys.argv[2])
size = os.path.getsize(path)
r = random.Random(frac)
with open(path, "r+b") as f:
    f.seek(size * frac // 4 - 8192)
    f.write(bytes(r.randrange(256) for _ in range(16384)))
EOF
done
try_all "bytes overwritten in the middle"

fresh_index
truncate -s $((size / 2)) "$IDX"
try_all "truncated to half"

fresh_index
truncate -s 100 "$IDX"
try_all "truncated inside the header"

fresh_index
: > "$IDX"
try_all "truncated to nothing"

fresh_index
python3 -c 'print("this is not a database, it is a note\n" * 200, end="")' > "$IDX"
try_all "replaced with text"

fresh_index
python3 -c 'import random,sys; r=random.Random(5); sys.stdout.buffer.write(bytes(r.randrange(256) for _ in range(40000)))' > "$IDX-wal"
try_all "a junk WAL beside it"

fresh_index
printf 'SQLite format 3\000' | dd of="$IDX" bs=1 seek=0 conv=notrunc 2>/dev/null
dd if=/dev/zero of="$IDX" bs=1 seek=16 count=84 conv=notrunc 2>/dev/null
try_all "a zeroed header"

# ---- a sound file whose word or regex index disagrees with the text -------
# SQLite's and FTS5's own checks pass on these; check must still see them.
fresh_index
sqlite3 "$IDX" "UPDATE section SET heading = 'zqtampered' WHERE id =
  (SELECT min(id) FROM section WHERE heading != '')"
run $T "$BIN" -C "$NOTES" --no-update check
expect_rc 2 "a heading changed behind the word index: check fails"
expect_match "$ERR" "damaged \(the word index does not match the notes at the term '[a-z0-9]+'\)" \
  "check names the word index and a term"
fresh_index
run $T "$BIN" -C "$NOTES" -l -- '/attention/'
expect_rc 0 "a regex search builds the regex index"
run $T "$BIN" -C "$NOTES" --no-update check
expect_rc 0 "check passes with the regex index"
# the shell lacks cnsearch's "cnstri" tokenizer; FTS5's "trigram" writes
# the same detail='none' index, so lend the table that name for the damage
tri_schema() { # FROM TO (tokenizer names; neither appears elsewhere in its SQL)
  sqlite3 "$IDX" "PRAGMA writable_schema=ON;
    UPDATE sqlite_schema SET sql = replace(sql, '$1', '$2') WHERE name = 'note_tri'"
}
tri_schema cnstri trigram
sqlite3 "$IDX" "INSERT INTO note_tri(note_tri, rowid, body)
  VALUES('delete', (SELECT min(id) FROM note), 'zqtampered text')"
tri_schema trigram cnstri
run $T "$BIN" -C "$NOTES" --no-update check
expect_rc 2 "a regex index row deleted with other text: check fails"
run $T "$BIN" -C "$NOTES" -q index --rebuild
run $T "$BIN" -C "$NOTES" --no-update check
expect_rc 0 "check passes after the rebuild"
# the folder list, which an update trusts to pass over unchanged folders,
# must agree with the notes: a note's mtime changed alone, then a
# folder's brief changed alone
sqlite3 "$IDX" "UPDATE note SET mtime = mtime + 1 WHERE id = (SELECT min(id) FROM note)"
run $T "$BIN" -C "$NOTES" --no-update check
expect_rc 2 "a note's mtime changed behind the folder list: check fails"
expect_match "$ERR" "damaged \(the folder list does not match the notes at '[^']*'\)" \
  "check names the folder list"
fresh_index
sqlite3 "$IDX" "UPDATE folder SET sum = sum + 1 WHERE path = (SELECT min(path) FROM folder)"
run $T "$BIN" -C "$NOTES" --no-update check
expect_rc 2 "a folder's brief changed alone: check fails"
# link_by_target holds a hash of each link's target: a wrong one would
# hide the link from backlinks and linked pages
fresh_index
sqlite3 "$IDX" "UPDATE link SET thash = thash + 1 WHERE id = (SELECT min(id) FROM link WHERE thash IS NOT NULL)"
run $T "$BIN" -C "$NOTES" --no-update check
expect_rc 2 "a link's target hash changed alone: check fails"
expect_match "$ERR" "damaged \(link [0-9]+ has a wrong target hash\)" "check names the link"
run $T "$BIN" -C "$NOTES" -q index --rebuild
run $T "$BIN" -C "$NOTES" --no-update check
expect_rc 0 "check passes after the rebuild"

# ---- a full disk ----------------------------------------------------------
# The index on a tmpfs just big enough for it; then a note too big to fit.
mkdir -p "$MNT"
kb=$(( (size + 4095) / 4096 * 4 + 192 ))
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o "size=${kb}k" tmpfs "$MNT" 2>/dev/null; then
  cp "$TMP/good.db" "$MNT/index.db"
  answers "$TMP/want-small" "$MNT/index.db"
  cmp -s "$TMP/want-small" "$TMP/want" && pass || fail "full disk: the copied index answers"
  python3 -c 'import random; r=random.Random(9); w=["w%d" % i for i in range(50000)]; print("# Big\n\n" + " ".join(r.choice(w) for _ in range(400000)))' \
    > "$NOTES/big.md"
  run $T "$BIN" -C "$NOTES" --index "$MNT/index.db" index
  expect_rc 2 "full disk: index fails"
  expect_eq "$(printf '%s\n' "$ERR" | wc -l | tr -d ' ')" 1 "full disk: one line on stderr"
  expect_match "$ERR" "^cnsearch: .*$MNT/index.db.*(full|space)" "full disk: the message names the index and says the disk is full"
  run $T "$BIN" -C "$NOTES" --index "$MNT/index.db" -l MoE
  expect_rc 2 "full disk: a search that must update says so too"
  expect_match "$ERR" "^cnsearch: .*(full|space)" "full disk: the search's message says the disk is full"
  rm "$NOTES/big.md"
  answers "$TMP/got" "$MNT/index.db"
  cmp -s "$TMP/got" "$TMP/want" && pass || fail "full disk: the last good index still answers"
  run $T "$BIN" -C "$NOTES" --index "$MNT/index.db" check
  expect_rc 0 "full disk: the last good index passes check"
  umount "$MNT"
else
  echo "note: $NAME: cannot mount a small tmpfs here (not root, or not permitted); full-disk case skipped"
fi

# ---- read-only index location and notes folder ---------------------------
printf '# New\n\nzqreadonly\n' > "$NOTES/new.md"
mkdir -p "$RO"
cp "$TMP/good.db" "$RO/index.db"
ro_ok=""
if [ "$(id -u)" = 0 ]; then
  if mount -t tmpfs -o size=64m tmpfs "$RO" 2>/dev/null; then
    cp "$TMP/good.db" "$RO/index.db"
    mount -o remount,ro "$RO" 2>/dev/null && ro_ok=1
  fi
  AS=""
else
  chmod a-w "$RO/index.db" "$RO" && ro_ok=1
  AS=""
fi
if [ -n "$ro_ok" ]; then
  run $T $AS "$BIN" -C "$NOTES" --index "$RO/index.db" index
  expect_rc 2 "read-only index: index fails"
  expect_eq "$(printf '%s\n' "$ERR" | wc -l | tr -d ' ')" 1 "read-only index: one line on stderr"
  expect_match "$ERR" "^cnsearch: .*'$RO/index.db'.*(read-only|Read-only|Permission denied|cannot write)" \
    "read-only index: the message names the index and why"
  expect_no_match "$ERR" "attempt to write a readonly database" "read-only index: not SQLite's words"
  run $T $AS "$BIN" -C "$NOTES" --index "$RO/index.db" -l zqreadonly
  expect_rc 2 "read-only index: a search that must update fails clearly"
  expect_match "$ERR" "^cnsearch: .*$RO/index.db" "read-only index: the search's message names the index"
  run $T $AS "$BIN" -C "$NOTES" --index "$RO/index.db" --no-update -l MoE
  case "$RC" in
  0) pass ;;
  *) expect_match "$ERR" "^cnsearch: .*$RO/index.db" "read-only index: --no-update answers, or fails clearly" ;;
  esac
  [ "$(id -u)" = 0 ] && umount "$RO" || chmod u+w "$RO" "$RO/index.db"
else
  echo "note: $NAME: cannot make a read-only index location here; case skipped"
fi

# A read-only notes folder with the index inside it (the default place).
rm -f "$NOTES/new.md"
mkdir -p "$ROOTRO"
cp -R "$ROOT/corpus/." "$ROOTRO/"
rm -rf "$ROOTRO/.cnsearch"
ro_ok=""
if [ "$(id -u)" = 0 ]; then
  mount --bind "$ROOTRO" "$ROOTRO" 2>/dev/null && mount -o remount,bind,ro "$ROOTRO" 2>/dev/null && ro_ok=1
else
  chmod a-w "$ROOTRO" && ro_ok=1
fi
if [ -n "$ro_ok" ]; then
  run $T "$BIN" -C "$ROOTRO" index
  expect_rc 2 "read-only notes folder: index fails"
  expect_eq "$(printf '%s\n' "$ERR" | wc -l | tr -d ' ')" 1 "read-only notes folder: one line on stderr"
  expect_match "$ERR" "^cnsearch: .*$ROOTRO/.cnsearch.*(read-only|Read-only|Permission denied)" \
    "read-only notes folder: the message names the index folder and why"
  run $T "$BIN" -C "$ROOTRO" --index "$TMP/elsewhere.db" -q index
  expect_rc 0 "read-only notes folder: an index elsewhere works"
  [ "$(id -u)" = 0 ] && umount "$ROOTRO" || chmod u+w "$ROOTRO"
else
  echo "note: $NAME: cannot make a read-only notes folder here; case skipped"
fi

finish
