#!/bin/sh
# query.sh -- the query language on corpus/: every filter, regex search
# agreeing with grep -P and ripgrep, regex positions, error messages, and
# "did you mean" suggestions.
. "$(dirname "$0")/lib.sh"
setup
cd "$TMP"
"$BIN" -C "$NOTES" index -q || fail "index"
S() { run "$BIN" -C "$NOTES" --no-update "$@"; }

# Literals that are not syntax work unquoted.
for q in GPT-3.5 C++ llama.cpp 7B-class reduce-scatter v5e e-mail; do
  S -l -n 0 -- "$q"
  expect_rc 0 "literal $q is found"
done
S -l -n 0 -- 'C++'
for f in $OUT; do
  grep -q 'C++' "$TMP/$f" && pass || fail "C++ hit $f holds no C++"
done

# Phrase, OR, NOT, prefix, NEAR, fields.
S -l -n 0 '"expert parallelism"'
expect_match "$OUT" 'topics/mixture-of-experts.md' "phrase"
S -l -n 0 'zigzag OR tenstorrent'
expect_eq "$(printf '%s\n' "$OUT" | sort | tr '\n' ' ')" "notes/hardware/inference-accelerators.md notes/papers/ring-attention.md " "OR"
S -l -n 0 -- 'moe -fsdp'
expect_no_match "$OUT" 'papers/fsdp.md' "NOT"
for f in $OUT; do grep -qi fsdp "$TMP/$f" && fail "NOT: $f mentions fsdp" || pass; done
S -l -n 0 'tenstor*'
expect_match "$OUT" 'inference-accelerators.md' "prefix"
S -l -n 0 'NEAR(pipeline bubble, 3)'
expect_match "$OUT" 'pipeline-parallelism.md' "NEAR"
S -l -n 1 'title:fsdp'
expect_eq "$OUT" "notes/papers/fsdp.md" "title: field"
S -l -n 0 'title:/^FSDP/'
expect_eq "$OUT" "notes/papers/fsdp.md" "title:/re/"
S -l -n 0 'title:/^fsdp/i'
expect_eq "$OUT" "notes/papers/fsdp.md" "title:/re/i is caseless"
S -l -n 0 'tag:moe'
expect_eq "$(printf '%s\n' "$OUT" | sort | tr '\n' ' ')" "notes/blog/2024-06-02-moe-inference-draft.md notes/papers/deepseek-v2.md notes/topics/mixture-of-experts.md " "tag:"
S -l -n 0 'path:/^papers\//' fsdp
for f in $OUT; do expect_match "$f" '^notes/papers/' "path: filter keeps papers/"; done
S -l -n 0 'after:2024-05-15'
expect_eq "$(printf '%s\n' "$OUT" | sort | tr '\n' ' ')" "notes/blog/2024-06-02-moe-inference-draft.md notes/papers/deepseek-v2.md " "after:"
S -l -n 0 'before:2024-05-15' 'after:2024-05'
expect_eq "$OUT" "notes/hardware/2024-05-14-tpu-v5e.md" "before: and after: (date in file name)"

# links-to: and linked-from: follow the link graph.
S -l -n 0 'links-to:papers/fsdp.md'
want=$(grep -rl 'fsdp.md' "$NOTES" --include='*.md' | grep -v '/papers/fsdp.md$' | sed "s|^$TMP/||" | sort)
expect_eq "$(printf '%s\n' "$OUT" | sort)" "$want" "links-to: lists the notes linking to a note"
S -l -n 0 'linked-from:index.md' fsdp
expect_match "$OUT" 'papers/fsdp.md' "linked-from: with a word"
S -l 'links-to:no-such-note'
expect_rc 2 "links-to: an unknown note"
expect_match "$ERR" "^cnsearch: no note 'no-such-note'" "unknown note message"

# url: points at the link itself.
S --vimgrep -n 0 'url:/tilewright/'
expect_rc 0 "url: filter"
line=$(printf '%s\n' "$OUT" | head -n 1)
f=$(echo "$line" | cut -d: -f1); l=$(echo "$line" | cut -d: -f2); c=$(echo "$line" | cut -d: -f3)
expect_match "$(sed -n "${l}p" "$TMP/$f" | cut -c"$c"-)" 'tilewright' "url: hit points at the link"

# heading: restricts the hit to matching sections.
S --vimgrep -n 0 'heading:/Expert parallelism/' experts
expect_rc 0 "heading: filter"
for hl in $(printf '%s\n' "$OUT" | cut -d: -f1,2); do
  f=${hl%%:*}; l=${hl#*:}
  # the hit's section heading is the nearest heading line at or above it
  h=$(head -n "$l" "$TMP/$f" | grep -E '^#+ ' | tail -n 1)
  expect_match "$h" 'Expert parallelism' "heading: hit $hl is under the heading"
done

# Bare /regex/ agrees with grep -P and rg -P on which files match.
for re in 'Mixture.of.Experts' 'all-(gather|reduce)' '\bv5e\b' 'FP8|int8' '^## ' \
          '[0-9]+ ?GB' 'https?:\/\/arxiv\.org\/abs\/2[0-9]{3}' 'ZeRO-[0-9]' 'e\.g\.' 'zig.?zag'; do
  grep -rlP --include='*.md' -- "$re" "$NOTES" | sed "s|^$TMP/||" | sort > "$TMP/want"
  S -l -n 0 -- "/$re/"
  printf '%s\n' "$OUT" | grep -v '^$' | sort > "$TMP/got"
  if cmp -s "$TMP/want" "$TMP/got"; then pass; else fail "/$re/ differs from grep -P: $(diff "$TMP/want" "$TMP/got" | tr '\n' ' ')"; fi
  if command -v rg >/dev/null; then
    (cd "$TMP" && rg -lP -g '*.md' -- "$re" notes | sort) > "$TMP/rg"
    cmp -s "$TMP/rg" "$TMP/got" && pass || fail "/$re/ differs from rg -P"
  fi
done
S -l -n 0 -- '/mixture.of.experts/i'
grep -rliP 'mixture.of.experts' "$NOTES" --include='*.md' | sed "s|^$TMP/||" | sort > "$TMP/want"
expect_eq "$(printf '%s\n' "$OUT" | sort)" "$(cat "$TMP/want")" "/re/i is caseless"

# --vimgrep on a regex points at the match itself.
S --vimgrep -n 0 -- '/Mixture.of.Experts/'
printf '%s\n' "$OUT" > "$TMP/vg"
while IFS=: read -r f l c rest; do
  expect_match "$(sed -n "${l}p" "$TMP/$f" | cut -c"$c"-)" '^Mixture.of.Experts' "regex hit $f:$l:$c"
done < "$TMP/vg"

# Errors: one line, exit 2, nothing on stdout.
S -- '/(MoE/'
expect_rc 2 "bad regex"
expect_eq "$ERR" "cnsearch: bad regex '/(MoE/' at offset 4: missing closing parenthesis" "bad regex message"
expect_eq "$OUT" "" "nothing printed on error"
S 'moe (a'
expect_rc 2 "unbalanced parenthesis"
S 'after:2024-13'
expect_rc 2 "bad date"
expect_match "$ERR" "bad date" "bad date message"
S 'title:'
expect_rc 2 "empty field"

# Did you mean: closest indexed words, on stderr, exit 1.
S tenstorent
expect_rc 1 "misspelling finds nothing"
expect_eq "$ERR" "cnsearch: no match; did you mean: tenstorrent?" "did you mean"
# Typos at the first letters, which the vocabulary ranges must reach too:
# changed, dropped, swapped with the second; and two swapped further in
# plus one dropped.
for q in xenstorrent enstorrent etnstorrent tensotrent; do
  S "$q"
  expect_eq "$ERR" "cnsearch: no match; did you mean: tenstorrent?" "did you mean for $q"
done
S pipelne
expect_eq "$ERR" "cnsearch: no match; did you mean: pipeline?" "did you mean for pipelne"
# The stem "licens" is shown as written, though stemming it again gives
# "licen", which no note holds.
S licenes
expect_eq "$ERR" "cnsearch: no match; did you mean: licenses?" "did you mean shows the word as written"
S 'heading:/^Nothing here$/'
expect_eq "$ERR" "" "no suggestion for a filter-only query"

finish
