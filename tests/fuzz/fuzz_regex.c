/*
** fuzz_regex.c -- libFuzzer target for the regex prefilter in
** query/regex.c.
**
** A /regex/ search first asks the trigram index (note_tri) for the notes
** that hold every trigram rx_trigram_query() reads out of the pattern,
** and only those go to PCRE2.  That is only right if the trigram query is
** necessary: every text the regex matches must satisfy it, or a search
** silently misses notes.  Input layout: one flags byte (bit 0: caseless,
** as /re/i), then the pattern up to the first NUL (a query's regex holds
** no NUL), then the note text.  Checks:
**
**   - the trigram query, when there is one, is an expression FTS5 accepts
**     on a table like note_tri (fts5(body, tokenize='cnstri',
**     detail='none'), which keeps word trigrams only): prepare and step
**     never fail;
**   - when PCRE2 finds a match in the text, that text, stored in the
**     table, is found by the trigram query (no false negative).
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cnsint.h"

static sqlite3 *db;
static sqlite3_stmt *ins, *del, *sel;

static void die(const char *what, const char *a, const char *b) {
  fprintf(stderr, "fuzz_regex: %s\n  pattern: %s\n  trigram query: %s\n",
          what, a ? a : "", b ? b : "(none)");
  abort();
}

static void setup(void) {
  if (sqlite3_open(":memory:", &db) != SQLITE_OK ||
      tri_register(db) != SQLITE_OK ||
      sqlite3_exec(db,
                   "CREATE VIRTUAL TABLE tri USING fts5(body, "
                   "tokenize='cnstri', detail='none')",
                   NULL, NULL, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "INSERT INTO tri(rowid, body) VALUES(1, ?)", -1,
                         &ins, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "DELETE FROM tri", -1, &del, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "SELECT rowid FROM tri WHERE tri MATCH ?", -1,
                         &sel, NULL) != SQLITE_OK)
    die("cannot set up", sqlite3_errmsg(db), NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2) return 0;
  if (!db) setup();
  int caseless = data[0] & 1;
  const uint8_t *nul = memchr(data + 1, 0, size - 1);
  size_t plen = nul ? (size_t)(nul - data - 1) : size - 1;
  char *pattern = cns_xstrndup((const char *)data + 1, plen);
  size_t tlen = nul ? size - 1 - plen - 1 : 0;
  char *text = malloc(tlen ? tlen : 1); /* exactly tlen bytes */
  if (tlen) memcpy(text, nul + 1, tlen);
  /* The trigram index is given the text as note_tri_doc shows it: NUL
  ** bytes and bytes that are not UTF-8 as spaces (core/zip.c; tested end
  ** to end in tests/cli/hostile_files.sh). */
  zip_plain_for_trigrams(text, tlen);

  rx *r = NULL;
  buf err = BUF_INIT;
  char *tq = plen ? rx_trigram_query(pattern, caseless) : NULL;
  if (tq && rx_compile(pattern, caseless, &r, &err) == CNS_OK) {
    size_t ms, me;
    int found = rx_find_copy(r, text, tlen, 0, &ms, &me, &err) == 1;
    sqlite3_step(del);
    sqlite3_reset(del);
    sqlite3_bind_text(ins, 1, text, (int)tlen, SQLITE_STATIC);
    if (sqlite3_step(ins) != SQLITE_DONE) die("cannot insert", pattern, tq);
    sqlite3_reset(ins);
    sqlite3_bind_text(sel, 1, tq, -1, SQLITE_STATIC);
    int rc, rows = 0;
    while ((rc = sqlite3_step(sel)) == SQLITE_ROW) rows++;
    if (rc != SQLITE_DONE) die(sqlite3_errmsg(db), pattern, tq);
    sqlite3_reset(sel);
    if (found && rows == 0)
      die("the regex matches the text but the trigram query misses it",
          pattern, tq);
  }
  rx_free(r);
  buf_free(&err);
  free(tq);
  free(text);
  free(pattern);
  return 0;
}
