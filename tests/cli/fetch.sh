#!/bin/sh
# fetch.sh -- `cnsearch fetch` against a local web server (httpd.py on
# 127.0.0.1, no outside network): what is stored and what is not, charset
# and gzip, failures recorded and summarised, --failed, revalidation with
# 304 on --refresh, --max-age, the per-host limit, local text files, the
# root never escaped, and interrupts (TERM, INT, KILL) keeping what was
# fetched.  Assertions read the index with sqlite3; `check` after writes.
. "$(dirname "$0")/lib.sh"

NOTES=$TMP/notes
mkdir -p "$NOTES/refs"
export CNSEARCH_NOTES=$NOTES
unset CNSEARCH_INDEX
DB=$NOTES/.cnsearch/index.db

python3 "$ROOT/tests/cli/httpd.py" "$TMP/port" &
SRV=$!
trap 'kill $SRV 2>/dev/null; rm -rf "$TMP"' EXIT
i=0
while [ ! -s "$TMP/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
PORT=$(cat "$TMP/port" 2>/dev/null)
if [ -z "$PORT" ]; then
  fail "test web server did not start"
  finish
  exit 1
fi
U=http://127.0.0.1:$PORT
SLOW=http://localhost:$PORT   # another host: slow links never block the rest

q() { sqlite3 "$DB" "$1"; }
counts() { # the server's /count report (python3: curl may be missing)
  python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1]).read().decode())' "$U/count"
}
served() { # path status -> how often the server answered it so
  counts | awk -v p="$1" -v s="$2" '$1 == p && $2 == s { print $3; f = 1 } END { if (!f) print 0 }'
}
count_of() { counts | sed -n "s/^$1 //p"; }

cat > "$NOTES/web.md" <<EOF
# Web links

- [page]($U/page.html#intro) and [the same page]($U/page.html)
- [script]($U/script.html), [plain]($U/plain.txt), [md]($U/notes.md)
- [latin]($U/latin1.html), [meta]($U/meta.html), [gzip]($U/gzip.html)
- [missing]($U/missing), [chain]($U/r1), [loop]($U/loop), [to file]($U/to-file)
- [big]($U/big), [big stream]($U/bigstream), [slow]($SLOW/slow), [flaky]($U/flaky)
- [blob]($U/blob.png) and ![only an image]($U/image-only.png)
- [other note](other.md), [spec](refs/spec.html), [guide](refs/guide.rst), [gone](refs/gone.html)
- [escape](../../etc/passwd), [escape 2](refs/../../x.html)
EOF
printf '# Other\n\nBack to [web](web.md).\n' > "$NOTES/other.md"
printf '<html><head><title>Local Spec</title></head><body><p>localspecword</p><script>localscriptword</script></body></html>' > "$NOTES/refs/spec.html"
printf 'Guide\n=====\n\nrstword here\n' > "$NOTES/refs/guide.rst"
printf '<p>outsideword</p>' > "$TMP/x.html"

# ---- the first fetch --------------------------------------------------
CNSEARCH_FETCH_TIMEOUT=2 run "$BIN" fetch
expect_rc 0 "fetch exits 0 although pages failed"
expect_eq "$ERR" "cnsearch: fetched 11, unchanged 0, not text 1, failed 7 — cnsearch fetch --failed to list them" "summary"
expect_eq "$OUT" "" "fetch prints nothing on stdout"
expect_match "$(count_of agent)" '^cnsearch/[0-9.]+ \(\+notes search\)$' "User-Agent names cnsearch"

expect_eq "$(q "select count(*) from page where url like '%/page.html%'")" 1 "one page for two links differing by #fragment"
expect_eq "$(q "select title from page where url = '$U/page.html'")" "Quokka Systems & Friends" "page title, entity decoded"
expect_match "$(q "select body from page where url = '$U/page.html'")" 'zebrafinch allocator pins pages in place' "page body, &nbsp; as a space"
expect_eq "$(q "select heading from page where url = '$U/page.html'")" "$(printf 'Quokka scheduling\nDetails')" "page headings"
expect_eq "$(q "select etag || ' / ' || last_modified from page where url = '$U/page.html'")" '"v1-page" / Tue, 04 Jun 2024 10:00:00 GMT' "validators stored"
expect_eq "$(q "select status from page where url = '$U/page.html'")" 200 "status stored"

body=$(q "select body from page where url = '$U/script.html'")
expect_match "$body" visibleword "visible text kept"
for w in scriptonlyword styleonlyword noscriptonlyword commentonlyword templateonlyword jsononlyword; do
  expect_no_match "$body" "$w" "$w not in the page text"
done

expect_eq "$(q "select title from page where url = '$U/latin1.html'")" "Café crème" "latin-1 title from the header charset"
expect_match "$(q "select body from page where url = '$U/latin1.html'")" 'Naïve résumé of the crème brûlée' "latin-1 body"
expect_match "$(q "select body from page where url = '$U/meta.html'")" 'Garçon metaword' "charset from <meta>"
expect_match "$(q "select body from page where url = '$U/gzip.html'")" 'gzipword inflated' "gzip page inflated"
expect_match "$(q "select body from page where url = '$U/plain.txt'")" 'Plain wombatword text, café included.' "text/plain kept as is"
expect_eq "$(q "select title from page where url = '$U/notes.md'")" "Markdown Page Title" "markdown page title"
expect_match "$(q "select heading from page where url = '$U/notes.md'")" "Second heading" "markdown page headings"
expect_eq "$(q "select final_url from page where url = '$U/r1'")" "$U/page-final.html" "redirect chain followed to the end"
expect_match "$(q "select body from page where url = '$U/r1'")" redirectedword "redirected page text"

expect_eq "$(q "select status || ' ' || error from page where url = '$U/missing'")" "404 HTTP 404" "404 recorded"
expect_eq "$(q "select error from page where url = '$U/loop'")" "too many redirects (more than 5)" "redirect loop"
expect_eq "$(served /loop 302)" 6 "loop: the first request and 5 redirects, no more"
expect_eq "$(q "select error from page where url = '$U/to-file'")" "redirected to a scheme other than http(s)" "no redirect to file:"
expect_eq "$(q "select error from page where url = '$U/big'")" "too big (over 5 MB)" "20 MB announced: too big"
expect_eq "$(q "select error from page where url = '$U/bigstream'")" "too big (over 5 MB)" "20 MB streamed: too big"
expect_eq "$(q "select error from page where url = '$SLOW/slow'")" "timed out after 2 s" "slow server times out"
expect_eq "$(q "select count(*) from page where error is not null and body is not null")" 0 "failures have no text"
expect_eq "$(q "select content_type || '|' || ifnull(body, 'NULL') || '|' || ifnull(error, 'NULL') from page where url = '$U/blob.png'")" "image/png|NULL|NULL" "binary recorded, not indexed"
expect_eq "$(q "select count(*) from page where url like '%image-only%'")" 0 "images are not downloaded"
expect_eq "$(served /image-only.png 404)" 0 "image link never requested"

expect_eq "$(q "select title || '|' || body from page where url = 'refs/spec.html'")" "Local Spec|localspecword" "local .html read, script dropped"
expect_match "$(q "select body from page where url = 'refs/guide.rst'")" rstword "local .rst read"
expect_match "$(q "select error from page where url = 'refs/gone.html'")" "^cannot read 'refs/gone.html': No such file" "missing local file recorded"
expect_eq "$(q "select count(*) from page where url like '%passwd%' or url like '%x.html' or body like '%outsideword%'")" 0 "nothing outside the root is read"
expect_eq "$(q "select count(*) from page where url = 'other.md'")" 0 "notes are not pages"
expect_eq "$(q "select count(*) from link where text like 'escape%' and target is null")" 2 "links out of the root have no target"

run "$BIN" check
expect_rc 0 "check after fetch"

# ---- --failed -----------------------------------------------------------
run "$BIN" fetch --failed
expect_rc 0 "--failed exits 0"
expect_eq "$(printf '%s\n' "$OUT" | wc -l | tr -d ' ')" 7 "--failed lists 7 pages"
expect_match "$OUT" "^$U/missing: HTTP 404\$" "--failed line shape"
expect_match "$OUT" "^$SLOW/slow: timed out after 2 s\$" "--failed lists the timeout"

# ---- again: nothing is downloaded twice ----------------------------------
run "$BIN" fetch
expect_rc 0 "second fetch"
expect_eq "$ERR" "cnsearch: fetched 0, unchanged 2, failed 1 — cnsearch fetch --failed to list them" "second fetch only re-checks local files"
expect_eq "$(served /page.html 200)" 1 "page downloaded once"

# ---- --refresh revalidates ---------------------------------------------
CNSEARCH_FETCH_TIMEOUT=2 run "$BIN" fetch --refresh
expect_rc 0 "fetch --refresh"
expect_match "$ERR" "unchanged 1," "refresh: the page with validators is unchanged"
expect_eq "$(served /page.html 304)" 1 "refresh sent If-None-Match and got 304"
expect_eq "$(served /page.html 200)" 1 "refresh did not download the page again"
expect_match "$(q "select body from page where url = '$U/page.html'")" zebrafinch "304 keeps the text"
expect_eq "$(served /plain.txt 200)" 2 "a page without validators is downloaded again"
expect_eq "$(q "select status || ' ' || error || ' ' || body from page where url = '$U/flaky'")" "503 HTTP 503 flakyword" "a failed refresh keeps the text it had"
run "$BIN" check
expect_rc 0 "check after refresh"

# ---- --max-age ----------------------------------------------------------
q "update page set fetched = fetched - 10 * 86400 where url = '$U/plain.txt'"
run "$BIN" fetch --max-age 5
expect_rc 0 "fetch --max-age"
expect_eq "$(served /plain.txt 200)" 3 "an old page is fetched again"
expect_eq "$(served /script.html 200)" 2 "a fresh page is not"

# ---- pages no note links any more are dropped ----------------------------
sed -i "/blob.png/d" "$NOTES/web.md"
run "$BIN" fetch
expect_match "$ERR" "1 no longer linked dropped" "unlinked page dropped"
expect_eq "$(q "select count(*) from page where url = '$U/blob.png'")" 0 "unlinked page gone"
run "$BIN" check
expect_rc 0 "check after dropping"

# ---- at most 2 requests to one host at once ------------------------------
N2=$TMP/hold
mkdir -p "$N2"
{ echo "# Hold"; for i in 1 2 3 4 5 6; do echo "- [h$i]($U/hold?$i)"; done; } > "$N2/h.md"
run "$BIN" -C "$N2" fetch --jobs 8
expect_eq "$ERR" "cnsearch: fetched 6, unchanged 0, failed 0" "six held pages"
expect_eq "$(count_of hold-max)" 2 "never more than 2 at once to one host"

# ---- interrupts keep what was fetched ------------------------------------
interrupt() { # signal, folder
  mkdir -p "$2"
  { echo "# Interrupted"
    echo "- [s1]($SLOW/slow?$1a) [s2]($SLOW/slow?$1b)"
    echo "- [p]($U/page.html) [q]($U/plain.txt) [g]($U/gzip.html)"; } > "$2/a.md"
  "$BIN" -C "$2" fetch >"$TMP/iout" 2>"$TMP/ierr" &
  pid=$!
  sleep "$3"
  kill -"$1" $pid
  wait $pid
  RC=$?
  ERR=$(cat "$TMP/ierr")
}
interrupt TERM "$TMP/i1" 1
expect_rc 143 "TERM: exit 143 (128 + SIGTERM)"
expect_match "$ERR" "interrupted; the 3 pages finished are kept" "TERM: says what was kept"
expect_eq "$(sqlite3 "$TMP/i1/.cnsearch/index.db" "select count(*) from page where body is not null")" 3 "TERM: fetched pages kept"
expect_eq "$(sqlite3 "$TMP/i1/.cnsearch/index.db" "select count(*) from page where url like '%slow%'")" 0 "TERM: unfinished pages not stored"
run "$BIN" -C "$TMP/i1" check
expect_rc 0 "check after TERM"
before=$(served /gzip.html 200)
CNSEARCH_FETCH_TIMEOUT=1 run "$BIN" -C "$TMP/i1" fetch
expect_eq "$ERR" "cnsearch: fetched 0, unchanged 0, failed 2 — cnsearch fetch --failed to list them" "the next fetch resumes with what is left"
expect_eq "$(served /gzip.html 200)" "$before" "resume downloads nothing twice"

interrupt INT "$TMP/i2" 1
expect_rc 130 "INT: exit 130"
expect_eq "$(sqlite3 "$TMP/i2/.cnsearch/index.db" "select count(*) from page where body is not null")" 3 "INT: fetched pages kept"

interrupt KILL "$TMP/i3" 3
expect_eq "$(sqlite3 "$TMP/i3/.cnsearch/index.db" "select count(*) from page where body is not null")" 3 "KILL after a batch: its pages kept"
run "$BIN" -C "$TMP/i3" check
expect_rc 0 "check after KILL"

# ---- searching what the links point to --------------------------------
run "$BIN" --no-update --vimgrep zebrafinch allocator
expect_rc 0 "a word only in a linked page finds the note"
expect_match "$OUT" '(^|/)web.md:3:3:' "the hit is the line and column of the link"
run "$BIN" --no-update --json zebrafinch
expect_match "$OUT" '"via":\{"url":"http://127.0.0.1:[0-9]+/page.html","title":"Quokka Systems & Friends","anchor":"page"\}' "--json carries via"
expect_match "$OUT" '"snippet":"[^"]*zebrafinch' "the snippet comes from the page"
marked=$(printf '%s\n' "$OUT" | python3 -c 'import json, sys
seen = set()
for line in sys.stdin:
    o = json.loads(line)
    if o.get("via"):
        s = o["snippet"].encode()
        seen.add(" ".join(s[a:b].decode() for a, b in o["matches"]))
print(" | ".join(sorted(seen)))')
expect_eq "$marked" "zebrafinch" "each via hit's snippet marks the page's word"
run "$BIN" --no-update --color=never zebrafinch
expect_match "$OUT" '\(via http://127.0.0.1:[0-9]+/page.html\)' "human output says via"
run "$BIN" --no-update --no-linked zebrafinch
expect_rc 1 "--no-linked searches the notes alone"
run "$BIN" --no-update -l localspecword
expect_match "$OUT" '(^|/)web.md$' "a linked local file's text finds the note"
run "$BIN" --no-update -l localscriptword
expect_rc 1 "script text of a local page is not indexed"
run "$BIN" --no-update --vimgrep 'Web links'
first=$(printf '%s\n' "$OUT" | head -n 1)
expect_match "$first" '(^|/)web.md:1:' "a direct hit ranks above linked pages"

finish
