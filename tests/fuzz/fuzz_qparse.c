/*
** fuzz_qparse.c -- libFuzzer target for query/qparse.c.
**
** Any bytes are a query.  qp_compile() must either refuse it with
** CNS_EQUERY and a one-line message that is safe to print (no control
** bytes, valid UTF-8, not empty), or return a plan that FTS5 accepts:
** match, match_any and exclude are each run as a MATCH against real
** in-memory FTS5 tables of the index's shape -- one with FTS5's default
** tokenizer and one with cnsearch's own "cns" tokenizer, as the index
** uses -- and preparing and stepping them must not fail.  That is the
** promise the parser exists to keep: no query a user can type ever
** reaches them as an FTS5 syntax error.
**
** The plan's shape is checked too: a plan has a match, an exclude or
** filters; exclude only without match; filters have a known field and
** an argument; terms have text and a known column.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cnsint.h"

static sqlite3 *db;
static sqlite3_stmt *st[2];

static void die(const char *what, const char *detail) {
  fprintf(stderr, "fuzz_qparse: %s%s%s\n", what, detail ? ": " : "",
          detail ? detail : "");
  abort();
}

#define ENSURE(cond) do { if (!(cond)) die("invariant broken", #cond); } while (0)

static void setup(void) {
  static const char *sql =
      "CREATE VIRTUAL TABLE plain USING fts5(title, heading, link, body);"
      "CREATE VIRTUAL TABLE cns USING fts5(title, heading, link, body,"
      "  tokenize='cns');"
      "INSERT INTO plain VALUES('Mixture of experts', 'Routing', "
      "  'moe https://example.org/a', 'sparse moe layers route tokens; C++ "
      "and c# too; GPT-3.5');"
      "INSERT INTO plain VALUES('x', 'a b', 'c', 'a b c d e f 1 2 3');"
      "INSERT INTO cns SELECT * FROM plain;";
  if (sqlite3_open(":memory:", &db) != SQLITE_OK) die("cannot open db", NULL);
  if (tok_register(db) != SQLITE_OK) die("cannot register tokenizer", NULL);
  char *msg = NULL;
  if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
    die("cannot set up tables", msg);
  /* The shape search.c runs: MATCH with bm25() ranking. */
  const char *q[2] = {
      "SELECT rowid, bm25(plain, 10.0, 4.0, 2.0, 1.0) FROM plain "
      "WHERE plain MATCH ?1 ORDER BY 2",
      "SELECT rowid, bm25(cns, 10.0, 4.0, 2.0, 1.0) FROM cns "
      "WHERE cns MATCH ?1 ORDER BY 2"};
  for (int i = 0; i < 2; i++)
    if (sqlite3_prepare_v2(db, q[i], -1, &st[i], NULL) != SQLITE_OK)
      die("cannot prepare", sqlite3_errmsg(db));
}

/* Run expr as a MATCH on both tables; any error is a finding. */
static void run_match(const char *expr) {
  for (int i = 0; i < 2; i++) {
    int rc;
    sqlite3_bind_text(st[i], 1, expr, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st[i])) == SQLITE_ROW) {}
    if (rc != SQLITE_DONE) {
      fprintf(stderr, "fuzz_qparse: FTS5 (%s tokenizer) refused: %s\n  "
              "expression: %s\n", i ? "cns" : "default", sqlite3_errmsg(db),
              expr);
      abort();
    }
    sqlite3_reset(st[i]);
  }
}

/* Whether s[0..n) is valid UTF-8 with no control characters. */
static int printable_line(const char *s, size_t n) {
  const unsigned char *u = (const unsigned char *)s;
  for (size_t i = 0; i < n;) {
    unsigned c = u[i];
    size_t k;
    if (c < 0x20 || c == 0x7f) return 0;
    if (c < 0x80) { i++; continue; }
    if (c >= 0xc2 && c <= 0xdf) k = 2;
    else if (c >= 0xe0 && c <= 0xef) k = 3;
    else if (c >= 0xf0 && c <= 0xf4) k = 4;
    else return 0;
    if (i + k > n) return 0;
    unsigned long cp = c & (0x7f >> k);
    for (size_t j = 1; j < k; j++) {
      if ((u[i + j] & 0xc0) != 0x80) return 0;
      cp = (cp << 6) | (u[i + j] & 0x3f);
    }
    if ((k == 3 && cp < 0x800) || (k == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
      return 0;
    if (cp >= 0x80 && cp < 0xa0) return 0; /* C1 controls */
    i += k;
  }
  return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!db) setup();
  char *q = malloc(size ? size : 1); /* exactly size bytes: no NUL at the end */
  if (size) memcpy(q, data, size);
  qp_plan *pl = (qp_plan *)1;
  buf err = BUF_INIT;
  int rc = qp_compile(q, size, &pl, &err);
  if (rc == CNS_EQUERY) {
    ENSURE(pl == NULL);
    ENSURE(err.len > 0 && err.len == strlen(buf_str(&err)));
    if (!printable_line(err.p, err.len)) die("unsafe error message", err.p);
  } else {
    ENSURE(rc == CNS_OK);
    ENSURE(pl != NULL);
    ENSURE(pl->match || pl->exclude || pl->nfilters);
    ENSURE(!(pl->match && pl->exclude));
    for (size_t i = 0; i < pl->nfilters; i++) {
      const qp_filter *f = &pl->filters[i];
      ENSURE(f->field >= QP_F_PATH && f->field <= QP_F_LINKED_FROM); /* every QP_F_* */
      ENSURE(f->arg != NULL && f->source != NULL);
    }
    for (size_t i = 0; i < pl->nterms; i++) {
      ENSURE(pl->terms[i].text != NULL);
      ENSURE(pl->terms[i].column >= -1 && pl->terms[i].column <= 3);
    }
    if (pl->match) run_match(pl->match);
    if (pl->match_any) run_match(pl->match_any);
    if (pl->exclude) run_match(pl->exclude);
    qp_plan_free(pl);
  }
  buf_free(&err);
  free(q);
  return 0;
}
