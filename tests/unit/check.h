/*
** check.h -- the unit tests' assertion macros.
**
** CHECK(cond) counts one assertion; a failure prints file:line and the
** condition and the test goes on.  CHECK_STR and CHECK_INT print both
** values.  check_done() prints "# counts PASSED FAILED" for tests/run,
** which adds every program's counts into the suite's closing line, and
** returns the exit status (0 only when nothing failed).  check_sql_int()
** reads one number from a database, for tests that include sqlite3.h
** first; check_open_index_db() opens one as the index code needs it, for
** tests that include cnsint.h first.
*/
#ifndef CHECK_H
#define CHECK_H

#include <stdio.h>
#include <string.h>

static int check_passed, check_failed;

#define CHECK(cond) do {                                                  \
    if (cond) check_passed++;                                             \
    else { check_failed++;                                                \
      fprintf(stderr, "%s:%d: FAIL: %s\n", __FILE__, __LINE__, #cond); }  \
  } while (0)

#define CHECK_INT(got, want) do {                                         \
    long long g_ = (long long)(got), w_ = (long long)(want);              \
    if (g_ == w_) check_passed++;                                         \
    else { check_failed++;                                                \
      fprintf(stderr, "%s:%d: FAIL: %s == %lld, want %lld\n",             \
              __FILE__, __LINE__, #got, g_, w_); }                        \
  } while (0)

#define CHECK_STR(got, want) do {                                         \
    const char *g_ = (got), *w_ = (want);                                 \
    if (g_ && w_ && strcmp(g_, w_) == 0) check_passed++;                  \
    else { check_failed++;                                                \
      fprintf(stderr, "%s:%d: FAIL: %s == \"%s\", want \"%s\"\n",         \
              __FILE__, __LINE__, #got, g_ ? g_ : "(null)",               \
              w_ ? w_ : "(null)"); }                                      \
  } while (0)

#ifdef SQLITE_OK
/* The first column of the first row of sql on db as an int; -1 when the
** statement fails or gives no row. */
static inline int check_sql_int(sqlite3 *db, const char *sql) {
  sqlite3_stmt *st;
  int n = -1;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    n = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  return n;
}
#endif

#ifdef CNSINT_H
/* Open path (":memory:" too) as the index code expects a connection:
** with the tokenizers and SQL functions the store and its views use. */
static inline sqlite3 *check_open_index_db(const char *path) {
  sqlite3 *db = NULL;
  CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
  CHECK_INT(tok_register(db), SQLITE_OK);
  CHECK_INT(tri_register(db), SQLITE_OK);
  CHECK_INT(zip_register(db), SQLITE_OK);
  CHECK_INT(links_register(db), SQLITE_OK);
  return db;
}
#endif

static inline int check_done(const char *name) {
  printf("%s: %d passed, %d failed\n# counts %d %d\n", name, check_passed,
         check_failed, check_passed, check_failed);
  return check_failed ? 1 : 0;
}

#endif
