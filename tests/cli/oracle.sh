#!/bin/sh
# oracle.sh -- for a sample of words drawn from corpus/, every note that
# `grep -rilw WORD` finds must be listed by `cnsearch -l -n 0 WORD`.
# (cnsearch may list more: it stems, so "route" also finds "routing".)
. "$(dirname "$0")/lib.sh"
setup
cd "$TMP"
"$BIN" -C "$NOTES" index -q || fail "index"
# Every 37th distinct alphabetic word of 4+ letters, a stable sample.
grep -rhoE '[A-Za-z]{4,}' "$NOTES" --include='*.md' | tr 'A-Z' 'a-z' | sort -u |
  awk 'NR % 37 == 0' > "$TMP/words"
while read -r w; do
  grep -rilw --include='*.md' -- "$w" "$NOTES" | sed "s|^$TMP/||" | sort > "$TMP/want"
  "$BIN" -C "$NOTES" --no-update -l -n 0 -- "$w" | sort > "$TMP/got"
  missing=$(comm -23 "$TMP/want" "$TMP/got")
  if [ -z "$missing" ]; then pass; else fail "'$w': grep finds but cnsearch misses: $missing"; fi
done < "$TMP/words"
[ "$PASSED" -gt 20 ] && pass || fail "sample too small ($PASSED words)"
finish
