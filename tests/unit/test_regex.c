/*
** test_regex.c -- the regex prefilter's literal reader (query/regex.c).
**
** A /regex/ search asks note_tri only for the notes holding every trigram
** rx_trigram_query() reads out of the pattern, so a trigram the pattern
** does not really require silently drops notes from the results.  Two
** kinds of checks:
**
**   - a table of patterns with the exact trigram query each must give
**     (NULL: nothing is required, every note is scanned), including the
**     class forms fuzz_regex once caught the reader misreading;
**   - an exhaustive one for /re/i: for every character of the Basic
**     Multilingual Plane that the reader lets into a caseless trigram,
**     every character the installed PCRE2 matches it to caselessly must
**     be found by that trigram in a real FTS5 trigram table.  This is
**     what proves the caseless ranges plain_char() allows, against the
**     very libraries the program links.
**
** tests/fuzz/fuzz_regex.c checks the same property on random patterns and
** texts; tests/cli/regex_index.sh checks it end to end against grep -P.
*/
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include "cnsint.h"
#include "check.h"

#define CHECK_NSTR(got, want) do {                                        \
    const char *gn_ = (got), *wn_ = (want);                               \
    if (!gn_ && !wn_) check_passed++;                                     \
    else CHECK_STR(gn_, wn_);                                             \
  } while (0)

/* ------------------------------------------------------ the reader */

static const struct { const char *pattern; int caseless; const char *want; }
reads[] = {
  {"abcd", 0, "\"abc\" AND \"bcd\""},
  {"ab", 0, NULL},                                 /* too short */
  {"Mixture.of", 0, "\"Mix\" AND \"ixt\" AND \"xtu\" AND \"tur\" AND \"ure\""},
  {"abc|def", 0, NULL},                            /* alternation */
  {"colou?r", 0, "\"col\" AND \"olo\""},           /* u made optional */
  {"abcd{0,2}", 0, "\"abc\""},                     /* d made optional */
  {"abcd{2}", 0, "\"abc\" AND \"bcd\""},
  {"x(abc)+yz", 0, NULL},                          /* groups end runs */
  /* only word trigrams: none with a space or punctuation (tri.c) */
  {"say \"hi\"", 0, "\"say\""},
  {"a b.c-d", 0, NULL},
  {"snake_case x2", 0, "\"sna\" AND \"nak\" AND \"ake\" AND \"ke_\" AND "
                     "\"e_c\" AND \"_ca\" AND \"cas\" AND \"ase\""},
  {"\\Qa.b\\E", 0, NULL},                          /* quoted */
  {"\\Qabc.d\\E", 0, "\"abc\""},
  {"\\x41bc", 0, NULL},                            /* escapes it does not read */
  /* a POSIX class inside a class ends where PCRE2 ends it */
  {"[[:alpha:]xyz]+", 0, NULL},
  {"key-[[:digit:]xyz]5", 0, "\"key\""},
  {"[[:alpha:]]abc", 0, "\"abc\""},
  {"[[:alph]abc", 0, "\"abc\""},                   /* not POSIX: "[[:alph]" */
  /* \Q or \E inside a class: too subtle to copy, so nothing is required */
  {"[\\Q]abc\\E]", 0, NULL},
  {"abc[\\E]def", 0, NULL},
  /* \cX takes the next character, \Q...\E quotes: neither ends a group or
  ** a class */
  {"[T:a0\\c]+xdl}z]+", 0, NULL},
  {"(a\\c)bcd)?xyz", 0, "\"xyz\""},
  {"(\\Q)\\E abc)?xyz", 0, "\"xyz\""},
  {"abc\\c|def", 0, "\"abc\" AND \"def\""},     /* \c| is no alternation */
  {"abcd\\E?", 0, "\"abc\""},                   /* \E alone is nothing */
  /* /i: only ASCII and Latin-1 and Latin Extended-A stay in runs */
  {"café", 1, "\"caf\" AND \"afé\""},
  {"вода", 0, "\"вод\" AND \"ода\""},
  {"вода", 1, NULL},
  {"ǅabcd", 1, "\"abc\" AND \"bcd\""},             /* U+01C5 ends the run */
};

static void test_reads(void) {
  for (size_t i = 0; i < sizeof reads / sizeof *reads; i++) {
    char *q = rx_trigram_query(reads[i].pattern, reads[i].caseless);
    if (!q != !reads[i].want || (q && strcmp(q, reads[i].want)))
      fprintf(stderr, "  pattern /%s/%s\n", reads[i].pattern,
              reads[i].caseless ? "i" : "");
    CHECK_NSTR(q, reads[i].want);
    free(q);
  }
}

/* ------------------------------------------ caseless, exhaustively */

static size_t put_utf8(char *o, unsigned c) {
  if (c < 0x80) { o[0] = (char)c; return 1; }
  if (c < 0x800) {
    o[0] = (char)(0xC0 | c >> 6);
    o[1] = (char)(0x80 | (c & 0x3F));
    return 2;
  }
  o[0] = (char)(0xE0 | c >> 12);
  o[1] = (char)(0x80 | (c >> 6 & 0x3F));
  o[2] = (char)(0x80 | (c & 0x3F));
  return 3;
}

static int is_bmp_scalar(unsigned c) {
  return c > 0 && (c < 0xD800 || c > 0xDFFF);
}

/* Does a trigram table holding d three times answer the query q? */
static int tri_finds(sqlite3 *db, unsigned d, const char *q) {
  char text[16];
  size_t n = 0;
  for (int k = 0; k < 3; k++) n += put_utf8(text + n, d);
  sqlite3_stmt *st;
  int found = -1;
  if (sqlite3_exec(db, "DELETE FROM tri", NULL, NULL, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "INSERT INTO tri(rowid, body) VALUES(1, ?)", -1,
                         &st, NULL) != SQLITE_OK)
    return -1;
  sqlite3_bind_text(st, 1, text, (int)n, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE ||
      sqlite3_prepare_v2(db, "SELECT count(*) FROM tri WHERE tri MATCH ?", -1,
                         &st, NULL) != SQLITE_OK)
    return -1;
  sqlite3_bind_text(st, 1, q, -1, SQLITE_STATIC);
  if (sqlite3_step(st) == SQLITE_ROW) found = sqlite3_column_int(st, 0) > 0;
  sqlite3_finalize(st);
  return found;
}

/* Every scalar value of the BMP but NUL, as one UTF-8 text, with the code
** point that starts at each byte offset.  Caller frees both. */
static char *bmp_text(size_t *len, unsigned **at) {
  char *t = cns_xmalloc(0x10000 * 3 + RX_SLACK);
  *at = cns_xmalloc((0x10000 * 3) * sizeof **at);
  size_t n = 0;
  for (unsigned c = 1; c < 0x10000; c++) {
    if (!is_bmp_scalar(c)) continue;
    (*at)[n] = c;
    n += put_utf8(t + n, c);
  }
  memset(t + n, 0, RX_SLACK);
  *len = n;
  return t;
}

/* The characters PCRE2 matches c to under /i, checked against FTS5; returns
** how many partners other than c itself were seen. */
static int check_partners(sqlite3 *db, unsigned c, const char *q,
                          const char *text, size_t len, const unsigned *at) {
  char pat[16];
  snprintf(pat, sizeof pat, "\\x{%X}", c);
  rx *r = NULL;
  buf err = BUF_INIT;
  CHECK_INT(rx_compile(pat, 1, &r, &err), CNS_OK);
  buf_free(&err);
  if (!r) return 0;
  int others = 0;
  size_t ms, me, start = 0;
  while (start < len && rx_find(r, text, len, start, &ms, &me, &err) == 1) {
    unsigned d = at[ms];
    if (d != c) {
      others++;
      int found = tri_finds(db, d, q);
      if (found != 1)
        fprintf(stderr, "  /i: PCRE2 matches U+%04X to U+%04X, FTS5 does "
                        "not fold them together\n", c, d);
      CHECK_INT(found, 1);
    }
    start = me > ms ? me : ms + 1;
  }
  buf_free(&err);
  rx_free(r);
  return others;
}

static void test_caseless_ranges(void) {
  sqlite3 *db = NULL;
  CHECK_INT(sqlite3_open(":memory:", &db), SQLITE_OK);
  CHECK_INT(sqlite3_exec(db, "CREATE VIRTUAL TABLE tri USING fts5(body, "
                             "tokenize='trigram', detail='none')",
                         NULL, NULL, NULL), SQLITE_OK);
  size_t len;
  unsigned *at;
  char *text = bmp_text(&len, &at);
  int accepted = 0, partners = 0;
  for (unsigned c = 1; c < 0x10000; c++) {
    if (!is_bmp_scalar(c) || c == '\\') continue;
    char pat[16];
    size_t n = 0;
    for (int k = 0; k < 3; k++) n += put_utf8(pat + n, c);
    pat[n] = 0;
    char *q = rx_trigram_query(pat, 1);
    if (!q) continue;
    accepted++;
    partners += check_partners(db, c, q, text, len, at);
    free(q);
  }
  /* The reader keeps ASCII and U+00A0..U+017F letters under /i, and those
  ** have partners (k and U+212A, s and U+017F, a-z and A-Z, ...). */
  CHECK(accepted > 300);
  CHECK(partners > 200);
  /* and a character past the ranges is not let in */
  char *q = rx_trigram_query("\xe1\xb2\x80\xe1\xb2\x80\xe1\xb2\x80", 1);
  CHECK(q == NULL);
  free(q);
  free(text);
  free(at);
  sqlite3_close(db);
}

int main(void) {
  test_reads();
  test_caseless_ranges();
  return check_done("test_regex");
}
