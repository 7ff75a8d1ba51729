#!/bin/sh
# output.sh -- the output options and the human format, checked against
# each other and against --json (the reference for headings, titles and
# snippets):
#
#   -l / -c / --count   the notes and per-note hit counts of --vimgrep -n 0
#   --null              NUL after each path, raw paths (a newline in a name)
#   --absolute          absolute paths in every format
#   --sort path|date    orders, same hits as rank order
#   human, piped        one line per hit: path:line:col: heading: snippet
#   human, colour       grouped: the path once per group, LINE:COL  HEADING,
#                       the snippet indented with the query words in red
#   colour choice       --color, NO_COLOR, and a real terminal (script(1))
. "$(dirname "$0")/lib.sh"
# lib.sh's fail() echoes, and dash's echo turns "\0" or "\c" in a message
# (a path, a repr of bytes) into a NUL or a cut; print messages verbatim.
fail() { FAILED=$((FAILED + 1)); printf 'FAIL: %s: %s\n' "$NAME" "$*"; }
setup
cd "$TMP"
printf '# NL\n\nglorbnewline in a note whose name holds a newline\n' > "$NOTES/new
line.md"
run "$BIN" -C "$NOTES" index
expect_rc 0 "index the corpus copy"

S() { "$BIN" -C "$NOTES" --no-update "$@"; }
ESC=$(printf '\033')

S --vimgrep -n 0 FSDP > "$TMP/vg"
[ "$(wc -l < "$TMP/vg")" -gt 5 ] && pass || fail "FSDP has hits"
cut -d: -f1 "$TMP/vg" | awk '!seen[$0]++' > "$TMP/vg.paths"

# -l: each note of the hits once, the best note first.
run S -l -n 0 FSDP
expect_eq "$(printf '%s\n' "$OUT" | LC_ALL=C sort)" "$(LC_ALL=C sort "$TMP/vg.paths")" "-l lists the notes of the hits"
expect_eq "$(printf '%s\n' "$OUT" | LC_ALL=C sort | uniq -d)" "" "-l lists each note once"
expect_eq "$(printf '%s\n' "$OUT" | head -n 1)" "$(head -n 1 "$TMP/vg.paths")" "-l starts with the best note"
run S -l -n 2 FSDP
expect_eq "$(printf '%s\n' "$OUT" | wc -l | tr -d ' ')" 2 "-l -n 2 lists 2 notes"

# -c / --count: path:N, N the note's hits in --vimgrep -n 0.
run S -c -n 0 FSDP
expect_eq "$(printf '%s\n' "$OUT" | LC_ALL=C sort)" \
  "$(cut -d: -f1 "$TMP/vg" | LC_ALL=C sort | uniq -c | awk '{ print $2 ":" $1 }' | LC_ALL=C sort)" \
  "-c counts each note's hits"
counts=$OUT
run S --count -n 0 FSDP
expect_eq "$OUT" "$counts" "--count is -c"

# --null: NUL after every path, nothing else changed; paths written raw.
S -l -n 0 FSDP > "$TMP/plain"
S -l -n 0 --null FSDP > "$TMP/null"
expect_eq "$(tr '\0' '\n' < "$TMP/null")" "$(cat "$TMP/plain")" "-l --null: NUL instead of newline"
expect_eq "$(tr -cd '\n' < "$TMP/null" | wc -c | tr -d ' ')" 0 "-l --null: no newline at all"
expect_eq "$(tr -cd '\0' < "$TMP/null" | wc -c | tr -d ' ')" "$(wc -l < "$TMP/plain" | tr -d ' ')" "-l --null: one NUL per note"
for fmt in -c --vimgrep ''; do
  S $fmt -n 0 FSDP > "$TMP/plain"
  S $fmt -n 0 --null FSDP > "$TMP/null"
  expect_eq "$(tr '\0' ':' < "$TMP/null")" "$(cat "$TMP/plain")" "--null ${fmt:-(human)}: NUL in place of the ':' after the path"
  expect_eq "$(tr -cd '\0' < "$TMP/null" | wc -c | tr -d ' ')" "$(wc -l < "$TMP/plain" | tr -d ' ')" "--null ${fmt:-(human)}: one NUL per line"
done
S -l glorbnewline > "$TMP/plain"
S -l --null glorbnewline > "$TMP/null"
expect_eq "$(od -An -tx1 "$TMP/plain" | tr -d ' \n')" "$(printf 'notes/new\\nline.md\n' | od -An -tx1 | tr -d ' \n')" "a newline in a path is escaped without --null"
expect_eq "$(od -An -tx1 "$TMP/null" | tr -d ' \n')" "$(printf 'notes/new\nline.md\0' | od -An -tx1 | tr -d ' \n')" "a newline in a path is raw with --null"

# --absolute: every format shows the notes root in full.
for fmt in -l -c --vimgrep ''; do
  run S $fmt --absolute -n 0 FSDP
  expect_eq "$(printf '%s\n' "$OUT" | grep -vc "^$NOTES/")" 0 "--absolute ${fmt:-(human)}: every path absolute"
done
run S --json --absolute -n 0 FSDP
expect_eq "$(printf '%s\n' "$OUT" | grep -vc "\"path\":\"$NOTES/")" 0 "--absolute --json: every path absolute"
run S --vimgrep --absolute -n 0 FSDP
expect_eq "$OUT" "$(sed "s|^|$TMP/|" "$TMP/vg")" "--absolute: the same hits, root prefixed"

# --sort path: by path, then line; the same hits.
S --vimgrep -n 0 --sort path FSDP > "$TMP/bypath"
expect_eq "$(cat "$TMP/bypath")" "$(LC_ALL=C sort -t: -k1,1 -k2,2n "$TMP/bypath")" "--sort path orders by path, then line"
expect_eq "$(LC_ALL=C sort "$TMP/bypath")" "$(LC_ALL=C sort "$TMP/vg")" "--sort path: the same hits as rank order"
run S --vimgrep -n 0 --sort rank FSDP
expect_eq "$OUT" "$(cat "$TMP/vg")" "--sort rank is the default"

# --sort date: newest first, undated notes last; the same hits.
S --json -n 0 --sort date model > "$TMP/bydate"
S --json -n 0 model > "$TMP/byrank"
run python3 - "$TMP/bydate" "$TMP/byrank" <<'EOF'
import json, sys
hits = [json.loads(l) for l in open(sys.argv[1])]
rank = [json.loads(l) for l in open(sys.argv[2])]
dates = [h["date"] for h in hits]
dated = [d for d in dates if d is not None]
assert dated, "no dated hits"
assert dates[:len(dated)] == dated, "an undated hit before a dated one"
assert len(dated) < len(dates), "no undated hits"
assert dated == sorted(dated, reverse=True), "dates not newest first: %s" % dated
key = lambda h: (h["path"], h["line"], h["column"])
assert sorted(map(key, hits)) == sorted(map(key, rank)), "not the same hits"
EOF
expect_rc 0 "--sort date: newest first, undated last, same hits ($ERR)"
run S --sort bogus FSDP
expect_rc 2 "--sort bogus"
expect_eq "$ERR" "cnsearch: --sort wants rank, path or date, not 'bogus'; see 'cnsearch --help'" "--sort bogus message"

# Human output, piped: one self-contained line per hit, exactly
# path:line:col: heading (or title): snippet -- built here from --json.
S --json -n 0 FSDP > "$TMP/json"
python3 - "$TMP/json" > "$TMP/want" <<'EOF'
import json, sys
for l in open(sys.argv[1], encoding="utf-8"):
    h = json.loads(l)
    via = " (via %s)" % h["via"]["url"] if h["via"] else ""
    print("%s:%d:%d: %s: %s%s" % (h["path"], h["line"], h["column"],
                                  h["heading"] or h["title"], h["snippet"], via))
EOF
run S -n 0 FSDP
expect_eq "$OUT" "$(cat "$TMP/want")" "piped human output: path:line:col: heading: snippet"
expect_no_match "$OUT" "$ESC" "piped human output has no colour"
expect_eq "$(printf '%s\n' "$OUT" | cut -d: -f1-3)" "$(cut -d: -f1-3 "$TMP/vg")" "piped human output: the hits of --vimgrep"

# Human output with colour: groups.  Parsed back into hits they must be
# --vimgrep's hits in order with --json's labels; the path heads a group
# only when it changes; matches are marked in red.
check_groups() { # description, then options for cnsearch
  what=$1; shift
  S --color=always -n 0 "$@" FSDP > "$TMP/color"
  S --json -n 0 "$@" FSDP > "$TMP/json"
  run python3 - "$TMP/color" "$TMP/json" <<'EOF'
import json, re, sys
P, L, H, M, R = "\033[1;35m", "\033[32m", "\033[1;36m", "\033[1;31m", "\033[0m"
out = open(sys.argv[1], encoding="utf-8").read()
want = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8")]
assert out.endswith("\n") and not out.endswith("\n\n"), "output must end with one newline"
groups = out[:-1].split("\n\n")
got, heads = [], []
for g in groups:
    lines = g.split("\n")
    m = re.fullmatch(re.escape(P) + r"(.+)" + re.escape(R), lines[0])
    assert m, "group header %r" % lines[0]
    path = m.group(1)
    assert not heads or heads[-1] != path, "two groups in a row for %s" % path
    heads.append(path)
    body = lines[1:]
    assert body and len(body) % 2 == 0, "hit lines in group %s: %r" % (path, body)
    for i in range(0, len(body), 2):
        m = re.fullmatch(re.escape(L) + r"(\d+)" + re.escape(R) + r":(\d+)  "
                         + re.escape(H) + r"(.*)" + re.escape(R), body[i])
        assert m, "hit line %r" % body[i]
        snip = body[i + 1]
        assert snip.startswith("    "), "snippet line %r" % snip
        marked = re.findall(re.escape(M) + r"(.*?)" + re.escape(R), snip)
        assert marked and all(w.lower().startswith("fsdp") for w in marked), "marks %r" % marked
        plain = re.sub(r"\033\[[0-9;]*m", "", snip[4:])
        got.append((path, int(m.group(1)), int(m.group(2)), m.group(3), plain))
exp = [(h["path"], h["line"], h["column"], h["heading"] or h["title"], h["snippet"]) for h in want]
assert got == exp, "hits differ:\n%s\n%s" % (got[:3], exp[:3])
print(len(groups), len(set(heads)))
EOF
  expect_rc 0 "$what: groups parse back into the hits ($ERR)"
}
check_groups "colour, rank order"
check_groups "colour, --sort path" --sort path
expect_eq "$(echo $OUT | cut -d' ' -f1)" "$(wc -l < "$TMP/vg.paths" | tr -d ' ')" "--sort path: one group per note (the path printed once)"

# Choosing colour: --color, NO_COLOR, and a terminal.
run S --color=never -n 3 FSDP
expect_no_match "$OUT" "$ESC" "--color=never"
NO_COLOR=1 run S --color=always -n 3 FSDP
expect_match "$OUT" "$ESC\\[" "--color=always wins over NO_COLOR"
run S --color=sometimes FSDP
expect_rc 2 "--color=sometimes"
expect_eq "$ERR" "cnsearch: --color wants auto, always or never, not 'sometimes'; see 'cnsearch --help'" "--color bad value message"
run S -l --json FSDP
expect_rc 2 "-l with --json"
expect_match "$ERR" "^cnsearch: choose one of" "conflicting formats message"
if script -qec true /dev/null >/dev/null 2>&1; then
  tty_run() { # env assignments..., then runs cnsearch -n 2 FSDP on a terminal
    env "$@" script -qec "'$BIN' -C '$NOTES' --no-update -n 2 FSDP" /dev/null < /dev/null
  }
  expect_match "$(tty_run TERM=dumb)" "$ESC\\[1;35m" "colour on a terminal by default"
  expect_no_match "$(tty_run NO_COLOR=1)" "$ESC" "NO_COLOR=1 turns colour off on a terminal"
  expect_match "$(tty_run NO_COLOR=)" "$ESC\\[" "an empty NO_COLOR does not"
  expect_no_match "$(env script -qec "'$BIN' -C '$NOTES' --no-update --color=never -n 2 FSDP" /dev/null < /dev/null)" \
    "$ESC" "--color=never on a terminal"
else
  echo "note: $NAME: script(1) not available; colour on a terminal not tested"
fi

finish
