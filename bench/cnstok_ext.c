/*
** cnstok_ext.c -- cnsearch's "cns" and "cnstri" tokenizers as a loadable
** SQLite extension, so that the sqlite3 shell can build the raw FTS5
** tables the benchmark compares cnsearch with:
**
**   sqlite3 x.db '.load build/bench/bench/cnstok' \
**     "CREATE VIRTUAL TABLE f USING fts5(body, tokenize='cns')"
**
** It compiles core/tok.c and tri.c (with buf.c and mem.c) into
** this one file, after sqlite3ext.h: that header turns every sqlite3_*
** call in them into a call through the API table the shell hands to the
** init function, so the very same tokenizer code runs in the shell and in
** cnsearch, and the extension needs no libsqlite3 of its own.  Nothing
** under core/ is changed.  Build: see bench/bench.mk ($(BENCH_EXT)).
*/
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT1

#include "core/mem.c"
#include "core/buf.c"
#include "core/tok.c"
#include "core/tri.c"

/* The entry point the shell looks for when loading "cnstok"; the only
** symbol exported (the build uses -fvisibility=hidden). */
__attribute__((visibility("default")))
int sqlite3_cnstok_init(sqlite3 *db, char **errmsg,
                        const sqlite3_api_routines *api) {
  SQLITE_EXTENSION_INIT2(api);
  int rc = tok_register(db);
  if (rc == SQLITE_OK) rc = tri_register(db);
  if (rc != SQLITE_OK && errmsg)
    *errmsg = sqlite3_mprintf("cannot register the cns tokenizers: %s",
                              sqlite3_errmsg(db));
  return rc;
}
