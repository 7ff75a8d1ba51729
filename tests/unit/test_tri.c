/*
** test_tri.c -- the regex index's tokenizer: FTS5's trigram with each
** word trigram of a document given once, which must index exactly the
** word trigrams the stock trigram tokenizer indexes in a detail='none'
** table.
*/
#include <stdlib.h>
#include <string.h>
#include "cnsint.h"
#include "check.h"

static sqlite3 *db;

static int count_cb(void *arg, int tflags, const char *t, int n, int start,
                    int end) {
  (*(int *)arg)++;
  return SQLITE_OK;
}

/* How many tokens tokenizer `name` gives for text, in mode flags. */
static int tokens(const char *name, int flags, const char *text) {
  fts5_api *api = tok_fts5_api(db);
  fts5_tokenizer t;
  void *ud = NULL;
  Fts5Tokenizer *inst = NULL;
  int n = -1;
  if (api && api->xFindTokenizer(api, name, &ud, &t) == SQLITE_OK &&
      t.xCreate(ud, NULL, 0, &inst) == SQLITE_OK) {
    n = 0;
    if (t.xTokenize(inst, &n, flags, text, (int)strlen(text), count_cb) !=
        SQLITE_OK)
      n = -1;
    t.xDelete(inst);
  }
  return n;
}

static void test_first_only(void) {
  /* "aaaaaa" has four trigrams, all "aaa"; "AbAbab", folded, four: "aba"
  ** and "bab" twice each.  A query gets them all. */
  CHECK_INT(tokens("trigram", FTS5_TOKENIZE_DOCUMENT, "aaaaaa"), 4);
  CHECK_INT(tokens("cnstri", FTS5_TOKENIZE_DOCUMENT, "aaaaaa"), 1);
  CHECK_INT(tokens("cnstri", FTS5_TOKENIZE_QUERY, "aaaaaa"), 4);
  CHECK_INT(tokens("trigram", FTS5_TOKENIZE_DOCUMENT, "AbAbab"), 4);
  CHECK_INT(tokens("cnstri", FTS5_TOKENIZE_DOCUMENT, "AbAbab"), 2);
  /* four-byte characters make 12-byte trigrams, still one each */
  CHECK_INT(tokens("cnstri", FTS5_TOKENIZE_DOCUMENT,
                   "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
                   "\xf0\x9f\x98\x80\xf0\x9f\x98\x80"),
            1);
  CHECK_INT(tokens("cnstri", FTS5_TOKENIZE_DOCUMENT, "ab"), 0);
  /* a space or ASCII punctuation keeps a trigram out; '_' and letters of
  ** any script do not; queries are passed on whole */
  CHECK_INT(tokens("trigram", FTS5_TOKENIZE_DOCUMENT, "ab cd"), 3);
  CHECK_INT(tokens("cnstri", FTS5_TOKENIZE_DOCUMENT, "ab cd"), 0);
  CHECK_INT(tokens("cnstri", FTS5_TOKENIZE_DOCUMENT, "a.b-c(d)e,f"), 0);
  CHECK_INT(tokens("cnstri", FTS5_TOKENIZE_DOCUMENT, "ab_cd"), 3);
  CHECK_INT(tokens("cnstri", FTS5_TOKENIZE_DOCUMENT, "x\xc3\xa9t\xc3\xa9 q"),
            2); /* "xét" and "été" */
  CHECK_INT(tokens("cnstri", FTS5_TOKENIZE_QUERY, "ab cd"), 3);
  CHECK_INT(tri_word("ab_", 3), 1);
  CHECK_INT(tri_word("a	b", 3), 0);
  CHECK_INT(tri_word("\xd0\xb2\xd0\xb2\xd0\xb2", 6), 1);
}

static const char *piece[] = {
    "abc", "ABC", "abd", "x", "  ", "\n", "\xc3\xa9t\xc3\xa9", "\xc3\x89T\xc3\x89",
    "\xd0\xb2\xd0\xb2\xd0\xb2", "\xf0\x9f\x98\x80", "reduce-scatter", "a", "b",
    "Ab", "\xe2\x80\x94", "1.5", "q"};

/* Random texts into a cnstri table and a stock trigram table: the same
** rows hold the same word trigrams (the SQL function tri_word, which
** `cnsearch check` uses too); deleting every other row keeps them so,
** and FTS5's own integrity check (which tokenizes the content again)
** passes on the cnstri table. */
static void test_same_index(void) {
  CHECK_INT(sqlite3_exec(db,
                         "CREATE VIRTUAL TABLE d USING fts5(b, "
                         "tokenize='cnstri', detail='none');"
                         "CREATE VIRTUAL TABLE s USING fts5(b, "
                         "tokenize='trigram', detail='none');",
                         NULL, NULL, NULL),
            SQLITE_OK);
  sqlite3_stmt *ins[2];
  CHECK_INT(sqlite3_prepare_v2(db, "INSERT INTO d(rowid, b) VALUES(?, ?)", -1,
                               &ins[0], NULL),
            SQLITE_OK);
  CHECK_INT(sqlite3_prepare_v2(db, "INSERT INTO s(rowid, b) VALUES(?, ?)", -1,
                               &ins[1], NULL),
            SQLITE_OK);
  unsigned seed = 99;
  int done = 0;
  for (int row = 1; row <= 400; row++) {
    buf text = BUF_INIT;
    int n = (int)((seed = seed * 1103515245u + 12345u) >> 16) % 80;
    for (int i = 0; i < n; i++) {
      seed = seed * 1103515245u + 12345u;
      buf_adds(&text, piece[(seed >> 16) % (sizeof piece / sizeof *piece)]);
    }
    /* now and then a long text of many distinct trigrams, 20 to 160 KB:
    ** the tokenizer's set grows, is kept for the short texts after it
    ** or, past 64K slots, freed */
    if (row % 50 == 25) {
      static const char alpha[] = "abcdefghijklmnopqrstuvwxyz0123456789_";
      for (int i = 0; i < (row / 50 + 1) * 20480; i++) {
        seed = seed * 1103515245u + 12345u;
        char c = i % 7 == 6 ? ' ' : alpha[(seed >> 16) % (sizeof alpha - 1)];
        buf_add(&text, &c, 1);
      }
    }
    for (int k = 0; k < 2; k++) {
      sqlite3_bind_int(ins[k], 1, row);
      sqlite3_bind_text(ins[k], 2, text.p ? text.p : "", (int)text.len,
                        SQLITE_STATIC);
      done += sqlite3_step(ins[k]) == SQLITE_DONE;
      sqlite3_reset(ins[k]);
    }
    buf_free(&text);
  }
  sqlite3_finalize(ins[0]);
  sqlite3_finalize(ins[1]);
  CHECK_INT(done, 800);
  static const char *differ =
      "SELECT (SELECT count(*) FROM (SELECT term, doc FROM vd EXCEPT "
      "SELECT term, doc FROM vs WHERE tri_word(term))) + (SELECT count(*) "
      "FROM (SELECT term, doc FROM vs WHERE tri_word(term) EXCEPT "
      "SELECT term, doc FROM vd))";
  CHECK_INT(sqlite3_exec(db,
                         "CREATE VIRTUAL TABLE temp.vd USING "
                         "fts5vocab(main, d, row);"
                         "CREATE VIRTUAL TABLE temp.vs USING "
                         "fts5vocab(main, s, row);",
                         NULL, NULL, NULL),
            SQLITE_OK);
  CHECK(check_sql_int(db, "SELECT count(*) FROM vd") > 20);
  /* the stock table holds trigrams cnstri leaves out, and they are the
  ** ones tri_word() rejects */
  CHECK(check_sql_int(db, "SELECT count(*) FROM vs WHERE NOT tri_word(term)") >
        20);
  CHECK_INT(check_sql_int(db, "SELECT count(*) FROM vd WHERE NOT "
                              "tri_word(term)"),
            0);
  CHECK_INT(check_sql_int(db, differ), 0);
  CHECK_INT(sqlite3_exec(db,
                         "DELETE FROM d WHERE rowid % 2 = 0;"
                         "DELETE FROM s WHERE rowid % 2 = 0;",
                         NULL, NULL, NULL),
            SQLITE_OK);
  CHECK_INT(check_sql_int(db, differ), 0);
  CHECK_INT(sqlite3_exec(db, "INSERT INTO d(d) VALUES('integrity-check')",
                         NULL, NULL, NULL),
            SQLITE_OK);
  CHECK_INT(sqlite3_exec(db, "DELETE FROM d; DELETE FROM s;", NULL, NULL,
                         NULL),
            SQLITE_OK);
  CHECK_INT(check_sql_int(db, "SELECT count(*) FROM vd"), 0);
}

int main(void) {
  CHECK_INT(sqlite3_open(":memory:", &db), SQLITE_OK);
  CHECK_INT(tri_register(db), SQLITE_OK);
  test_first_only();
  test_same_index();
  sqlite3_close(db);
  return check_done("test_tri");
}
