#!/bin/sh
# walk.sh -- the walk lists exactly the notes it should, on a tree shaped
# to reach every path through indexer/scan.c: more folders than its queue
# holds (so workers walk some inline), nested ignore files with a
# re-include, one folder big enough that two threads stat it, hidden
# entries, symbolic links, and notes that change between walks.  The
# expected list is computed here from the tree, not taken from cnsearch.
. "$(dirname "$0")/lib.sh"
# the walk is what is tested: no watcher (these 2,700 notes would get one)
export CNSEARCH_WATCH=never

T=$TMP/tree
mkdir -p "$T"
note() { # path, then a word the note holds
  mkdir -p "$(dirname "$T/$1")"
  printf '# %s\n\nwalkword %s\n' "$1" "$2" > "$T/$1"
}

# 300 folders below the root, each with two notes and a subfolder: more
# than the queue's 128 open folders, so some are walked inline.
i=0
while [ $i -lt 300 ]; do
  note "d$i/a.md" one
  note "d$i/sub/b.md" two
  i=$((i + 1))
done
# a folder of 2,100 notes: its stats are split between two threads
mkdir -p "$T/big"
i=0
while [ $i -lt 2100 ]; do
  printf 'walkword big %s\n' $i > "$T/big/n$i.md"
  i=$((i + 1))
done
# nested ignore files: d7 leaves out its sub/ folder, d8 leaves out *.md
# below it but takes a.md back; a root rule leaves out every d9*/a.md
printf 'sub/\n' > "$T/d7/.gitignore"
printf '*.md\n!a.md\n' > "$T/d8/.cnsearchignore"
printf 'd9*/a.md\n' > "$T/.gitignore"
# hidden entries and links are never walked
note ".hidden/h.md" hidden
note "d1/.h.md" hidden
ln -s "$T/d2" "$T/link-to-d2"
ln -s "$T/d3/a.md" "$T/d4/linked.md"
# not a note by its ending
printf 'walkword\n' > "$T/d5/data.json"
# names that sort around a folder's name: a walk that lists a folder's
# notes out of path order shows up as notes added and removed on a no-op
for n in b.md b-x.md b0.md "b b.md" 'b!.md' b~.md B.md é.md b/c.md b.d/x.md \
  b/c/d.md b-/e.md b0/f.md; do
  note "e/$n" order
done

expected() { # the notes, sorted, by the rules above
  (cd "$T" && find . -name '*.md' -type f -not -path '*/.*' | sed 's|^\./||' |
    grep -v -E '^d7/sub/|^d9[0-9]*/a\.md$' |
    grep -v -E '^d8/.*\.md$' ; echo d8/a.md) | LC_ALL=C sort
}

listed() { # paths print relative to the working folder
  (cd "$T" && "$BIN" --index "$TMP/walk.db" -l -n 0 walkword) | LC_ALL=C sort
}

run "$BIN" -C "$T" --index "$TMP/walk.db" -q index
expect_rc 0 "index a tree of 900 folders"
expected > "$TMP/want"
listed > "$TMP/got"
expect_eq "$(wc -l < "$TMP/want" | tr -d ' ')" 2700 "the expected list: 2,713 notes less 13 ignored"
if cmp -s "$TMP/want" "$TMP/got"; then pass; else
  fail "the walk lists other notes than expected: $(diff "$TMP/want" "$TMP/got" | head -5)"
fi

# a no-op update finds nothing to do, twice in a row
run "$BIN" -C "$T" --index "$TMP/walk.db" index
expect_match "$ERR$OUT" '0 added, 0 changed, 0 removed' "a no-op update changes nothing"
# and writes nothing: a no-op update and a freshness-checked search leave
# the index file as it was (setting auto_vacuum on every open once made
# each of them commit a rewrite of the file's first page)
before=$(stat -c %y "$TMP/walk.db")
run "$BIN" -C "$T" --index "$TMP/walk.db" index
run "$BIN" -C "$T" --index "$TMP/walk.db" -l -n 1 walkword
expect_rc 0 "a freshness-checked search"
expect_eq "$(stat -c %y "$TMP/walk.db")" "$before" "a no-op update and a search do not write the index file"
# one worker per core walks; one alone, or more than this machine has
# cores, list the same notes in the same order with the same briefs
for w in 1 5; do
  run env CNSEARCH_WALKERS=$w "$BIN" -C "$T" --index "$TMP/walk.db" index
  expect_match "$ERR$OUT" '0 added, 0 changed, 0 removed' "$w walker(s): the same walk"
done
run env CNSEARCH_WALKERS=5 "$BIN" -C "$T" --index "$TMP/walk5.db" -q index
(cd "$T" && "$BIN" --index "$TMP/walk5.db" --no-update -l -n 0 walkword) | LC_ALL=C sort > "$TMP/got5"
if cmp -s "$TMP/want" "$TMP/got5"; then pass; else
  fail "5 walkers index other notes: $(diff "$TMP/want" "$TMP/got5" | head -5)"
fi

# changes in many folders at once: one added, one changed, one removed,
# one folder newly ignored; the walk sees every one
note "d250/sub/new.md" new
printf '# changed\n\nwalkword changed longer text\n' > "$T/d100/a.md"
rm "$T/big/n7.md"
printf 'sub/\n' > "$T/d60/.gitignore"
run "$BIN" -C "$T" --index "$TMP/walk.db" index
expect_match "$ERR$OUT" '1 added, 1 changed, 2 removed' "the walk sees changes across folders"
expected > "$TMP/want"
printf 'd60/sub/b.md\n' > "$TMP/drop"
grep -v -x -F -f "$TMP/drop" "$TMP/want" > "$TMP/want2"
listed > "$TMP/got"
if cmp -s "$TMP/want2" "$TMP/got"; then pass; else
  fail "after changes: $(diff "$TMP/want2" "$TMP/got" | head -5)"
fi

# an update reads from the index only the folders whose notes changed:
# changes at the root, in a folder whose name sorts among its notes', and
# beside a folder whose name others begin with are all seen
note "top.md" root
printf '# b\n\nwalkword order changed\n' > "$T/e/b.md"
printf '# e\n\nwalkword order changed too\n' > "$T/e/b-/e.md"
rm "$T/e/b0.md"
note "e/b0/g.md" order
run "$BIN" -C "$T" --index "$TMP/walk.db" index
expect_match "$ERR$OUT" '2 added, 2 changed, 1 removed' "changes at the root and around a folder's name"
run "$BIN" -C "$T" --index "$TMP/walk.db" index
expect_match "$ERR$OUT" '0 added, 0 changed, 0 removed' "then nothing to do"
printf '# top\n\nwalkword root changed\n' > "$T/top.md"
run "$BIN" -C "$T" --index "$TMP/walk.db" index
expect_match "$ERR$OUT" '0 added, 1 changed, 0 removed' "a note at the root changed alone"
expected > "$TMP/want"
grep -v -x -F -f "$TMP/drop" "$TMP/want" > "$TMP/want2"
listed > "$TMP/got"
if cmp -s "$TMP/want2" "$TMP/got"; then pass; else
  fail "after changes around folder names: $(diff "$TMP/want2" "$TMP/got" | head -5)"
fi
run "$BIN" -C "$T" --index "$TMP/walk.db" check
expect_rc 0 "check passes: the folder list agrees with the notes"

# every note touched: all folders differ, and the update reads the whole
# index instead of folder by folder
find "$T" -name '*.md' -exec touch -d '2020-01-02 03:04:05' {} +
n=$(wc -l < "$TMP/want2" | tr -d ' ')
run "$BIN" -C "$T" --index "$TMP/walk.db" index
expect_match "$ERR$OUT" "0 added, $n changed, 0 removed" "every note touched: every note re-read"
run "$BIN" -C "$T" --index "$TMP/walk.db" index
expect_match "$ERR$OUT" '0 added, 0 changed, 0 removed' "then nothing to do"

# the scoped walk (index PATH) judges a folder and a file as the full
# walk does: an ignored folder lists nothing, a re-included note is kept
rm "$T/d8/a.md" "$T/d7/a.md"
note "d7/sub/c.md" ignored
cd "$T" # index PATH takes paths as the shell gives them
run "$BIN" --index "$TMP/walk.db" index d7 d8/a.md
cd "$TMP"
expect_match "$ERR$OUT" '0 added, 0 changed, 2 removed' "index PATH: ignored folder, gone note"
run "$BIN" -C "$T" --index "$TMP/walk.db" index
expect_match "$ERR$OUT" '0 added, 0 changed, 0 removed' "the full walk then agrees"

finish
