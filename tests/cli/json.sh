#!/bin/sh
# json.sh -- --json output checked by real JSON parsers (Python's json
# module, and jq when installed) against docs/json.md, over a copy of
# corpus/ extended with hostile notes: invalid UTF-8 of every kind,
# control characters, quotes, backslashes, a NUL byte, U+2028, and file
# names with spaces, quotes, a backslash and a Latin-1 byte.
#
# For each query every line must be one valid UTF-8 JSON object with the
# documented keys, in the documented order, of the documented types;
# every "matches" range must lie inside the snippet (as UTF-8 bytes) and
# mark text that starts like a query word (case-insensitively, first
# four letters, because the index stems); and column/end_column must
# point at such a word in the file on disk.
. "$(dirname "$0")/lib.sh"
# lib.sh's fail() echoes, and dash's echo turns "\0" or "\c" in a message
# (a path, a repr of bytes) into a NUL or a cut; print messages verbatim.
fail() { FAILED=$((FAILED + 1)); printf 'FAIL: %s: %s\n' "$NAME" "$*"; }
setup
cd "$TMP"

# Hostile notes.  weird.md: each line has a unique word after the bad bytes,
# so that snippets hold them and match offsets must be remapped.
printf '# Weird \001 "quoted" \\ title\n\nBefore \377\376 bad \300\257 over \355\240\200 surr \342\202 cut glorbquux after "dq" and '"'"'sq'"'"' and back\\slash \\\\ two.\nControl \001\002 \033[31mred\033[0m \177 del\ttab glorbquux \342\200\250 sep \342\200\251 end.\n\nNUL here \000 then glorbnul after the nul glorbquux.\n' > "$NOTES/weird.md"
printf -- '---\ntitle: "Front \001 \377 q\\"uote\\\\ matter"\ndate: 2024-01-02\ntags: [glorbtag]\n---\n\nglorbfront under a hostile title.\n' > "$NOTES/weird-front.md"
printf '# Spaced\n\nglorbspace in a file with spaces and quotes.\n' > "$NOTES/odd name \"q\" 'x'.md"
printf '# Latin\n\nglorblatin in a file whose name is not UTF-8.\n' > "$NOTES/caf$(printf '\351').md"
printf '# Back\n\nglorbback in a name with a backslash.\n' > "$NOTES/back\\slash.md"
mkdir -p "$NOTES/dir with space"
printf '# Nested\n\nglorbnest [link](https://example.org/glorburl?q="x"&y=\\z) here.\n' > "$NOTES/dir with space/n.md"

run "$BIN" -C "$NOTES" index
expect_rc 0 "index the extended corpus"

export JSON_DOC="$ROOT/docs/json.md"
cat > "$TMP/check.py" <<'EOF'
# check.py WORD... < json-lines: print PASS/FAIL lines, one per property.
import json, os, re, sys

words = [w.lower() for w in sys.argv[1:]]
explain = os.environ.get("EXPECT_EXPLAIN") == "1"
# The documented keys, in order: the first column of the table under
# "## Fields" in docs/json.md.  "explain" is there but present only with
# --explain.
doc = open(os.environ["JSON_DOC"], encoding="utf-8").read()
table = doc.split("\n## Fields", 1)[1].split("\n## ", 1)[0]
DOC_KEYS = re.findall(r"^\| `([a-z_]+)` ", table, re.M)
KEYS = [k for k in DOC_KEYS if k != "explain"]
problems = {}

def bad(prop, msg):
    problems.setdefault(prop, msg)

def like_word(text):
    t = text.lower()
    return any(t.startswith(w[:4]) for w in words)

def is_int(x):
    return isinstance(x, int) and not isinstance(x, bool)

data = sys.stdin.buffer.read()
lines = data.split(b"\n")
if lines and lines[-1] == b"":
    lines.pop()
else:
    bad("lines", "output does not end with a newline")
hits = 0
for raw in lines:
    hits += 1
    if any(c < 0x20 for c in raw):
        bad("raw", "raw control byte in %r" % raw[:80])
    if b"\xe2\x80\xa8" in raw or b"\xe2\x80\xa9" in raw:
        bad("raw", "raw U+2028/U+2029 in %r" % raw[:80])
    try:
        text = raw.decode("utf-8")
        o = json.loads(text)
    except Exception as e:
        bad("parse", "%s: %r" % (e, raw[:120]))
        continue
    if not isinstance(o, dict):
        bad("parse", "not an object: %r" % raw[:80])
        continue
    keys = list(o)
    want = [k for k in DOC_KEYS if k != "explain" or explain]
    if keys != want:
        bad("keys", "keys %s, want %s (docs/json.md)" % (keys, want))
    t = lambda k, ok: ok or bad("types", "%s=%r" % (k, o.get(k)))
    t("type", o.get("type") == "hit")
    t("format_version", o.get("format_version") == 1)
    t("path", isinstance(o.get("path"), str) and o["path"] != "")
    t("line", is_int(o.get("line")) and o["line"] >= 1)
    t("column", is_int(o.get("column")) and o["column"] >= 1)
    t("end_column", is_int(o.get("end_column")) and o["end_column"] > o.get("column", 0))
    t("title", isinstance(o.get("title"), str))
    t("heading", isinstance(o.get("heading"), str))
    t("score", o.get("score") is None or (isinstance(o["score"], (int, float)) and not isinstance(o["score"], bool)))
    t("tier", o.get("tier") in (0, 1))
    t("snippet", isinstance(o.get("snippet"), str) and "\n" not in o["snippet"])
    t("date", o.get("date") is None or isinstance(o["date"], str))
    via = o.get("via")
    t("via", via is None or (isinstance(via, dict) and isinstance(via.get("url"), str)
                             and (via.get("title") is None or isinstance(via["title"], str))))
    if explain:
        t("explain", isinstance(o.get("explain"), str))
    snip = o.get("snippet") if isinstance(o.get("snippet"), str) else ""
    sb = snip.encode("utf-8")
    m = o.get("matches")
    if not isinstance(m, list) or not all(
            isinstance(p, list) and len(p) == 2 and all(is_int(x) for x in p) for p in m):
        bad("matches", "matches=%r" % (m,))
        continue
    for s, e in m:
        if not (0 <= s <= e <= len(sb)):
            bad("matches", "[%d,%d] outside a %d-byte snippet %r" % (s, e, len(sb), snip))
            continue
        try:
            marked = sb[s:e].decode("utf-8")
        except UnicodeDecodeError:
            bad("matches", "[%d,%d] cuts a UTF-8 sequence in %r" % (s, e, snip))
            continue
        # A hit found through a linked page may mark that page's words.
        if words and via is None and not like_word(marked):
            bad("marks", "[%d,%d] marks %r, not a query word %s, in %r" % (s, e, marked, words, snip))
    if words and via is None and not m:
        bad("marks", "no match marked in %r" % snip)
    # column/end_column against the file on disk (a path with U+FFFD in it
    # cannot be opened: the replacement is documented as lossy).
    if words and via is None and "\ufffd" not in o["path"]:
        try:
            with open(o["path"], "rb") as f:
                body = f.read()
        except OSError as e:
            bad("path", "cannot open %r: %s" % (o["path"], e))
            continue
        flines = body.split(b"\n")
        ln = o["line"]
        if ln > len(flines):
            bad("position", "%s:%d: no such line" % (o["path"], ln))
            continue
        fl = flines[ln - 1]
        if ln == 1 and fl.startswith(b"\xef\xbb\xbf"):
            fl = fl[3:]
        seg = fl[o["column"] - 1:o["end_column"] - 1].decode("utf-8", "replace")
        if not like_word(seg):
            bad("position", "%s:%d:%d-%d is %r, not a query word %s" % (
                o["path"], ln, o["column"], o["end_column"], seg, words))

if len(KEYS) < 14:
    bad("keys", "docs/json.md documents only %s" % DOC_KEYS)
for prop in ["lines", "raw", "parse", "keys", "types", "matches", "marks", "position", "path"]:
    if prop in problems:
        print("FAIL %s: %s" % (prop, problems[prop]))
    else:
        print("PASS %s" % prop)
print("HITS %d" % hits)
EOF

# check QUERY [WORD...]: --json -n 0 for QUERY must pass every property;
# WORDs are what the marks and columns must point at (default: QUERY).
check() {
  q=$1; shift
  [ $# -gt 0 ] || set -- "$q"
  "$BIN" -C "$NOTES" --no-update --json -n 0 -- "$q" > "$TMP/out.json" 2>"$TMP/err"
  rc=$?
  if [ $rc -ne 0 ]; then fail "json '$q': exit $rc ($(cat "$TMP/err"))"; return; fi
  [ -s "$TMP/err" ] && fail "json '$q': stderr not empty: $(cat "$TMP/err")" || pass
  python3 "$TMP/check.py" "$@" < "$TMP/out.json" > "$TMP/res" 2>&1
  while read -r st detail; do
    case "$st" in
      PASS) pass ;;
      FAIL) fail "json '$q': $detail" ;;
      HITS) [ "$detail" -gt 0 ] && pass || fail "json '$q': no hits" ;;
      *) fail "json '$q': checker: $st $detail" ;;
    esac
  done < "$TMP/res"
  if command -v jq >/dev/null 2>&1; then
    n=$(jq -c . < "$TMP/out.json" | wc -l | tr -d ' ')
    expect_eq "$n" "$(wc -l < "$TMP/out.json" | tr -d ' ')" "jq parses every line for '$q'"
  fi
}

check FSDP
check attention
check 'mixture of experts' mixture of experts
check tilewright
check 'quant*' quant
check model
check glorbquux
check glorbnul
check glorbfront
check glorbspace
check glorblatin
check glorbback
check glorbnest
check glorburl
check 'glorbquux OR glorbspace OR glorbback' glorbquux glorbspace glorbback
check '/glorb[a-z]+/' glorb

# Without python3 nothing above proves anything; say so loudly.
command -v python3 >/dev/null 2>&1 && pass || fail "python3 is needed for this test"
command -v jq >/dev/null 2>&1 || echo "note: $NAME: jq not installed; only Python parsed the output"

# The hostile strings arrive escaped, not raw.
run "$BIN" -C "$NOTES" --no-update --json glorbquux
expect_match "$OUT" '"title":"Weird \\u0001 \\"quoted\\" \\\\ title"' "control byte, quote and backslash escaped in the title"
expect_match "$OUT" '"snippet":"Before \\ufffd\\ufffd bad \\ufffd\\ufffd over \\ufffd\\ufffd\\ufffd surr \\ufffd\\ufffd cut glorbquux' "each invalid byte is one U+FFFD"
expect_match "$OUT" '\\u2028' "U+2028 escaped"
run "$BIN" -C "$NOTES" --no-update --json glorblatin
expect_match "$OUT" '"path":"notes/caf\\ufffd\.md"' "a Latin-1 file name arrives as U+FFFD"
run "$BIN" -C "$NOTES" --no-update --json glorbspace
expect_match "$OUT" "\"path\":\"notes/odd name \\\\\"q\\\\\" 'x'\\.md\"" "quotes in a file name escaped"

# Other options: --explain adds the key; colour and --null change nothing.
"$BIN" -C "$NOTES" --no-update --json --explain FSDP > "$TMP/out.json"
EXPECT_EXPLAIN=1 python3 "$TMP/check.py" FSDP < "$TMP/out.json" > "$TMP/res"
expect_eq "$(grep -c '^FAIL' "$TMP/res")" 0 "--json --explain: $(grep '^FAIL' "$TMP/res" | head -n 1)"
run "$BIN" -C "$NOTES" --no-update --json -n 0 FSDP
plain=$OUT
run "$BIN" -C "$NOTES" --no-update --json -n 0 --color=always --null FSDP
expect_eq "$OUT" "$plain" "--color=always and --null do not change --json"
run "$BIN" -C "$NOTES" --no-update --json -n 3 FSDP
expect_eq "$(printf '%s\n' "$OUT" | wc -l | tr -d ' ')" 3 "one line per hit (-n 3)"

# No hits: no output at all; errors go to stderr only.
run "$BIN" -C "$NOTES" --no-update --json qwxzzyqq
expect_rc 1 "json: no hits"
expect_eq "$OUT" "" "json: no output without hits"
run "$BIN" -C "$NOTES" --no-update --json '"unbalanced'
expect_rc 2 "json: query error"
expect_eq "$OUT" "" "json: nothing on stdout for an error"
expect_match "$ERR" '^cnsearch: ' "json: the error is on stderr"

finish
