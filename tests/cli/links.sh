#!/bin/sh
# links.sh -- `cnsearch links NOTE` on a copy of corpus/: outgoing links
# and backlinks with their positions, NOTE by path (from the root or the
# current folder, ending optional), title or file name stem, wiki links by
# title, a dangling wiki link, links that would leave the root leading
# nowhere, targets resolved at query time (a note created after the link,
# a percent-encoded name, an extensionless path), --json, exit codes.
. "$(dirname "$0")/lib.sh"
setup
cd "$TMP"

# Backlinks: every note that links papers/fsdp.md, each at its link.
run "$BIN" links papers/fsdp.md
expect_rc 0 "links papers/fsdp.md"
back=$(printf '%s\n' "$OUT" | sed -n '/^backlinks:$/,$p' | sed 1d)
want=$(cd "$NOTES" && grep -rn --include='*.md' -o '](\(\.\./\)*\(papers/\)\{0,1\}fsdp\.md[#)]' . |
  grep -v '^\./papers/fsdp\.md' | wc -l | tr -d ' ')
expect_eq "$(printf '%s\n' "$back" | wc -l | tr -d ' ')" "$want" "fsdp backlinks: one per link in the notes ($want)"
expect_match "$back" '^notes/index\.md:17:3:FSDP: Fully Sharded Data Parallel$' "backlink from index.md, line and column"
expect_match "$back" '^notes/reading/reading-log-2024\.md:36:[0-9]+:FSDP notes$' "backlink from the reading log"
expect_match "$back" '^notes/conferences/neurips-2023-workshop\.md:26:[0-9]+:FSDP$' "backlink with #anchor"
# every backlink position points at the '[' of a link to fsdp.md
printf '%s\n' "$back" > "$TMP/back"
ok=1
while IFS=: read -r path line col rest; do
  src=$(sed -n "${line}p" "$TMP/$path" | cut -c"$col"-)
  case "$src" in '['*) ;; *) ok=0; echo "bad position $path:$line:$col: $src" ;; esac
  printf '%s' "$src" | grep -q 'fsdp\.md' || { ok=0; echo "not a link to fsdp: $path:$line:$col"; }
done < "$TMP/back"
[ "$ok" = 1 ] && pass || fail "backlink positions point at the links"

# Outgoing: index.md links every note (paths, #anchors and wiki titles).
run "$BIN" --json links index.md
expect_rc 0 "links index.md --json"
notes=$(cd "$NOTES" && find . -name '*.md' ! -path ./index.md | sed 's|^\./|notes/|' | sort)
got=$(printf '%s\n' "$OUT" | jq -r 'select(.direction == "out" and .target_kind == "note") | .target' | sort -u)
expect_eq "$got" "$notes" "index.md links every other note"
expect_eq "$(printf '%s\n' "$OUT" | jq -r 'select(.kind == "wiki" and .text == "Writing Triton Kernels") | .target')" "notes/compilers/triton-kernels.md" "wiki link resolved by title"
expect_eq "$(printf '%s\n' "$OUT" | jq -r 'select(.url == "hardware/inference-accelerators.md#mental-model") | .target')" "notes/hardware/inference-accelerators.md" "#anchor cut from a path"
expect_eq "$(printf '%s\n' "$OUT" | jq -r 'select(.kind == "image") | .target_kind')" "null" "missing image is dangling"
expect_eq "$(printf '%s\n' "$OUT" | jq -r 'select(.url == "https://github.github.com/gfm/") | .target_kind')" "page" "web link is a page"
expect_eq "$(printf '%s\n' "$OUT" | jq -s 'map(select(.type == "link")) | length')" "$(printf '%s\n' "$OUT" | wc -l | tr -d ' ')" "every --json line is a link object"

# The dangling wiki link in the MLSys 2023 notes.
run "$BIN" links conferences/mlsys-2023.md
expect_match "$OUT" '^notes/conferences/mlsys-2023\.md:88:[0-9]+:MLSys 2024 Notes → MLSys 2024 Notes \(dangling\)$' "dangling wiki link"
expect_match "$OUT" '^notes/conferences/mlsys-2023\.md:30:[0-9]+:PagedAttention and the KV Cache → notes/papers/paged-attention\.md$' "wiki link to a note"

# NOTE by title, by stem, without ending, relative to the current folder.
run "$BIN" links papers/fsdp.md
full=$OUT
run "$BIN" links "fsdp: FULLY sharded data parallel"
expect_eq "$OUT" "$full" "note by title, case ignored"
run "$BIN" links fsdp
expect_eq "$OUT" "$full" "note by file name stem"
run "$BIN" links papers/fsdp
expect_eq "$OUT" "$full" "note by path without ending"
(cd "$NOTES/papers" && "$BIN" links ./fsdp.md > "$TMP/rel.out" 2>&1)
expect_match "$(cat "$TMP/rel.out")" '^fsdp\.md:16:1:ZeRO and DeepSpeed' "path relative to the current folder; paths shown from there"

# Links that would leave the root lead nowhere, whatever the depth.
mkdir -p "$NOTES/deep/er"
cat > "$NOTES/deep/er/escape.md" <<'EOF'
# Escape

[one](../../../etc/passwd), [two](../../../../../etc/passwd),
[three](/../etc/passwd), [four](%2e%2e/%2e%2e/%2e%2e/etc/passwd),
[five](..%2F..%2F..%2Fetc/passwd), [inside](../../papers/fsdp.md).
EOF
run "$BIN" links deep/er/escape.md
expect_eq "$(printf '%s\n' "$OUT" | grep -c '(dangling)$')" 5 "five escapes are dangling"
expect_match "$OUT" ':inside → notes/papers/fsdp\.md$' "a climb that stays inside resolves"
expect_eq "$(sqlite3 "$NOTES/.cnsearch/index.db" "select count(*) from link where url like '%passwd%' and target is null")" 5 "no target stored for an escape"

# Targets are resolved when asked: percent-encoding, no ending, later notes,
# a title that changes, a link to the note itself.
cat > "$NOTES/linker.md" <<'EOF'
# Linker

[spaced](my%20note.md) [bare](papers/zero) [later](later.md) [[Renamed Title]] [self](#linker)
EOF
printf '# My Note\n\ntext\n' > "$NOTES/my note.md"
run "$BIN" links linker.md
expect_match "$OUT" ':spaced → notes/my note\.md$' "percent-encoded path"
expect_match "$OUT" ':bare → notes/papers/zero\.md$' "path without .md"
expect_match "$OUT" ':later → later\.md \(dangling\)$' "link to a note not yet written"
expect_match "$OUT" ':self → notes/linker\.md$' "#anchor alone is the note itself"
printf '# Later\n' > "$NOTES/later.md"
printf -- '---\ntitle: Renamed Title\n---\n\nbody\n' > "$NOTES/renamed.md"
run "$BIN" links later
expect_match "$OUT" '^notes/linker\.md:3:[0-9]+:later$' "backlink from a note indexed before its target"
run "$BIN" links "renamed title"
expect_match "$OUT" '^notes/linker\.md:3:[0-9]+:Renamed Title$' "wiki backlink by the new title"

# Errors and exit codes.
run "$BIN" links no-such-note
expect_rc 2 "unknown note"
expect_eq "$ERR" "cnsearch: no note 'no-such-note' (by path, title or file name)" "unknown note message"
printf '# Twin\n' > "$NOTES/twin-a.md"
printf '# Twin\n' > "$NOTES/twin-b.md"
run "$BIN" links Twin
expect_rc 2 "ambiguous title"
expect_eq "$ERR" "cnsearch: 'Twin' names 2 notes: twin-a.md, twin-b.md; give its path" "ambiguous title message"
run "$BIN" links twin-a.md
expect_rc 1 "a note without links: exit 1"
expect_eq "$OUT" "" "nothing printed for a note without links"
run "$BIN" links
expect_rc 2 "links without a note"
run "$BIN" links a b
expect_rc 2 "links with two notes"

run "$BIN" check
expect_rc 0 "check"
finish
