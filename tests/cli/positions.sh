#!/bin/sh
# positions.sh -- every --vimgrep line:col points at the word searched for.
#
# Over a copy of corpus/ plus notes that put words in awkward places (a
# heading, front matter, a link URL, CRLF line ends, a UTF-8 BOM), for a
# fixed sample of about 40 words drawn from corpus/ and the special cases,
# each `--vimgrep -n 0 WORD` line must point at a token of the file that
# starts like WORD: at line:col (1-based line, 1-based byte column, a BOM
# not counted on line 1) the file's bytes start with WORD's first four
# letters, case-insensitively (the index stems, so "sharded" may land on
# "sharding"), and no letter or digit comes just before.
#
# The same places are then opened in Vim (when installed): cursor(line,
# col) must land on that column, on the same word -- Vim is the reader the
# byte columns are for, and it is Vim that decides what a BOM or a CR does
# to a column.
. "$(dirname "$0")/lib.sh"
# lib.sh's fail() echoes, and dash's echo turns "\0" or "\c" in a message
# (a path, a repr of bytes) into a NUL or a cut; print messages verbatim.
fail() { FAILED=$((FAILED + 1)); printf 'FAIL: %s: %s\n' "$NAME" "$*"; }
setup
cd "$TMP"

# Awkward places.  posn.md: front matter, headings, body.  fsdp-crlf.md:
# papers/fsdp.md with CRLF line ends.  zero-bom.md: papers/zero.md behind
# a UTF-8 BOM (its first line holds "ZeRO").  bom-crlf.md: both.
printf -- '---\ntitle: Zorbfront title\ntags: [zorbtag]\n---\n\n# Zorbhead One\n\nBody text.\n\n## Deeper zorbdeep\n\nMore body with zorbbody and caf\303\251 zorbafter.\n' > "$NOTES/posn.md"
sed 's/$/\r/' "$NOTES/papers/fsdp.md" > "$NOTES/papers/fsdp-crlf.md"
{ printf '\357\273\277'; cat "$NOTES/papers/zero.md"; } > "$NOTES/papers/zero-bom.md"
printf '\357\273\277zorbbom first\r\nsecond zorbcr\r\n\r\n# Head zorbcrhead\r\n' > "$NOTES/bom-crlf.md"
run "$BIN" -C "$NOTES" index
expect_rc 0 "index the corpus copy"

# The sample: distinct ASCII words of 5+ letters standing alone (not part of
# a longer token such as fp8scaling or reshard_after), every Nth of them
# in byte order, so the same ~40 words every run.
python3 - "$ROOT/corpus" > "$TMP/words" <<'EOF'
import os, re, sys
words = set()
for d, dirs, files in os.walk(sys.argv[1]):
    dirs[:] = [x for x in dirs if not x.startswith(".")]
    for f in files:
        if f.endswith(".md"):
            text = open(os.path.join(d, f), encoding="utf-8", errors="replace").read()
            words.update(w.lower() for w in re.findall(r"(?<!\w)[A-Za-z]{5,}(?!\w)", text))
words = sorted(words)
step = max(1, len(words) // 40)
for w in words[step // 2::step][:40]:
    print(w)
EOF
expect_eq "$(wc -l < "$TMP/words" | tr -d ' ')" 40 "a sample of 40 words"
# "running" and "tagged" land on "runs" and "tags": stemmed forms.
printf '%s\n' running tagged tilewright fsdp zero zorbfront zorbtag zorbhead zorbdeep zorbbody \
  zorbafter zorbbom zorbcr zorbcrhead >> "$TMP/words"
awk '!seen[$0]++' "$TMP/words" > "$TMP/words.u" && mv "$TMP/words.u" "$TMP/words"

# All hits, as WORD<TAB>vimgrep-line.
: > "$TMP/hits"
while read -r w; do
  "$BIN" -C "$NOTES" --no-update --vimgrep -n 0 -- "$w" > "$TMP/vg"
  rc=$?
  [ $rc -eq 0 ] && pass || fail "'$w' has hits (exit $rc)"
  sed "s/^/$w	/" "$TMP/vg" >> "$TMP/hits"
done < "$TMP/words"

# Check every hit against the bytes of its file; one line per word.  When
# the text at line:col does not start with WORD's first four letters (the
# stemmer maps "running" to "run", which also finds "runs"), the token
# found there is searched for itself: sharing WORD's stem, it must give
# exactly WORD's hits; a column that is off lands on a token that does not.
python3 - "$TMP/hits" "$BIN" "$NOTES" > "$TMP/res" <<'EOF'
import re, subprocess, sys
hits_file, prog, notes = sys.argv[1:4]

def locations(out):
    return [m.group(0) for m in (re.match(r"(.*?):(\d+):(\d+):", l) for l in out.splitlines()) if m]

def search(word):
    r = subprocess.run([prog, "-C", notes, "--no-update", "--vimgrep", "-n", "0", "--", word],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    return locations(r.stdout.decode("utf-8", "surrogateescape"))

bad, seen, hits = {}, [], {}
vimcheck = open(hits_file + ".vim", "w", encoding="utf-8")
for row in open(hits_file, "rb").read().decode("utf-8", "surrogateescape").splitlines():
    word, line = row.split("\t", 1)
    hits.setdefault(word, []).append(line)
    if word not in seen:
        seen.append(word)
for word in seen:
    mine = locations("\n".join(hits[word]))
    for line in hits[word]:
        m = re.match(r"(.*?):(\d+):(\d+):", line)
        if not m:
            bad.setdefault(word, "not a vimgrep line: %r" % line)
            continue
        path, ln, col = m.group(1), int(m.group(2)), int(m.group(3))
        lines = open(path.encode("utf-8", "surrogateescape"), "rb").read().split(b"\n")
        if ln > len(lines):
            bad.setdefault(word, "%s:%d: past the end" % (path, ln))
            continue
        text = lines[ln - 1]
        if ln == 1 and text.startswith(b"\xef\xbb\xbf"):
            text = text[3:]
        at = text[col - 1:]
        before = text[col - 2:col - 1] if col > 1 else b""
        # What Vim must show at cursor(line, col): the next word's bytes.
        tok = re.match(rb"[A-Za-z0-9]*", at).group(0) or at[:1]
        vimcheck.write("%s\t%s\t%s\n" % (word, m.group(0), tok.decode("utf-8", "replace")))
        if before.isalnum():
            bad.setdefault(word, "%s:%d:%d is inside a word: %r" % (path, ln, col, text[max(0, col - 6):col + 14]))
        elif not at.lower().startswith(word[:4].encode()):
            tok = re.match(rb"[A-Za-z0-9]+", at)
            if not tok or search(tok.group(0).decode()) != mine:
                bad.setdefault(word, "%s:%d:%d points at %r, which is not a form of the word" % (
                    path, ln, col, text[max(0, col - 6):col + 14]))
    print(("FAIL %s: %s" % (word, bad[word])) if word in bad else "PASS %s" % word)
EOF
while read -r st detail; do
  if [ "$st" = PASS ]; then pass; else fail "position of '$detail"; fi
done < "$TMP/res"
expect_eq "$(wc -l < "$TMP/res" | tr -d ' ')" "$(wc -l < "$TMP/words" | tr -d ' ')" "every word checked"

hits_of() { "$BIN" -C "$NOTES" --no-update --vimgrep -n 0 -- "$1" | cut -d: -f1-3; }

# A word found only inside a link URL.
expect_eq "$(hits_of tilewright)" "notes/topics/quantization.md:68:49" "hit inside a link URL"
# Headings, front matter, after a multi-byte character.
expect_eq "$(hits_of zorbhead)" "notes/posn.md:6:3" "hit in a heading"
expect_eq "$(hits_of zorbdeep)" "notes/posn.md:10:11" "hit in a second-level heading"
expect_eq "$(hits_of zorbfront)" "notes/posn.md:2:8" "hit in the front matter title"
expect_eq "$(hits_of zorbtag)" "notes/posn.md:3:8" "hit in the front matter tags"
expect_eq "$(hits_of zorbafter)" "notes/posn.md:12:35" "byte column after a multi-byte character"
# CRLF and BOM copies land exactly where their originals do.
hits_of fsdp | sed -n 's|^notes/papers/fsdp.md:||p' | sort > "$TMP/lf"
hits_of fsdp | sed -n 's|^notes/papers/fsdp-crlf.md:||p' | sort > "$TMP/crlf"
[ -s "$TMP/lf" ] && pass || fail "fsdp.md has hits"
expect_eq "$(cat "$TMP/crlf")" "$(cat "$TMP/lf")" "CRLF copy: same lines and columns"
hits_of zero | sed -n 's|^notes/papers/zero.md:||p' | sort > "$TMP/lf"
hits_of zero | sed -n 's|^notes/papers/zero-bom.md:||p' | sort > "$TMP/bom"
expect_match "$(cat "$TMP/lf")" '^1:3$' "zero.md has a hit on line 1"
expect_eq "$(cat "$TMP/bom")" "$(cat "$TMP/lf")" "BOM copy: same lines and columns (BOM not counted)"
expect_eq "$(hits_of zorbbom)" "notes/bom-crlf.md:1:1" "first word after a BOM is column 1"
expect_eq "$(hits_of zorbcr)" "notes/bom-crlf.md:2:8" "CRLF line after a BOM line"

# Vim's own reading of the same places: cursor(line, col) must land on
# that line and column, and the word there must be the one read above.
if command -v vim >/dev/null 2>&1; then
  cat > "$TMP/check.vim" <<'EOF'
set nomore hidden
set encoding=utf-8 fileencodings=ucs-bom,utf-8,latin1 fileformats=unix,dos
let out = []
for row in readfile($TMP . '/hits.vim')
  let [word, hit, want] = split(row, "\t", 1)
  let m = matchlist(hit, '^\(.\{-}\):\(\d\+\):\(\d\+\):')
  execute 'silent keepalt edit ' . fnameescape(m[1])
  call cursor(str2nr(m[2]), str2nr(m[3]))
  let at = strpart(getline('.'), col('.') - 1)
  if line('.') == str2nr(m[2]) && col('.') == str2nr(m[3])
        \ && strpart(at, 0, strlen(want)) ==# want
    call add(out, 'PASS ' . word)
  else
    call add(out, 'FAIL ' . word . ': ' . hit[: 60] . ' -> Vim at ' . line('.') . ':' . col('.')
          \ . ' (' . &fileformat . (&bomb ? ', bomb' : '') . '): ' . at[: 20])
  endif
endfor
call writefile(out, $TMP . '/vimres')
execute 'silent keepalt edit ' . fnameescape($CNSEARCH_NOTES . '/bom-crlf.md')
call writefile([&fileformat . ' ' . &bomb], $TMP . '/vimmeta')
qall!
EOF
  export TMP
  timeout 120 vim -Nu NONE -i NONE -Es -S "$TMP/check.vim" </dev/null >/dev/null 2>&1
  expect_eq "$(wc -l < "$TMP/vimres" 2>/dev/null | tr -d ' ')" "$(wc -l < "$TMP/hits" | tr -d ' ')" "Vim checked every hit"
  expect_eq "$(wc -l < "$TMP/hits.vim" | tr -d ' ')" "$(wc -l < "$TMP/hits" | tr -d ' ')" "every hit has a word for Vim"
  # One verdict per word: its first failure, if any.
  awk '{ w = $2; sub(/:$/, "", w) }
       !(w in v) { order[n++] = w; v[w] = "PASS" }
       $1 == "FAIL" && v[w] == "PASS" { v[w] = $0 }
       END { for (i = 0; i < n; i++) print v[order[i]] }' "$TMP/vimres" > "$TMP/vimword"
  while read -r st detail; do
    if [ "$st" = PASS ]; then pass; else fail "Vim: $detail"; fi
  done < "$TMP/vimword"
  expect_eq "$(cat "$TMP/vimmeta" 2>/dev/null)" "dos 1" "Vim read bom-crlf.md as CRLF with a BOM"
else
  echo "note: $NAME: vim not installed; positions not checked in Vim"
fi

finish
