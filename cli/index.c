/*
** index.c -- `cnsearch index` and `cnsearch check`.
**
** index brings the index up to date (or, with --rebuild, builds it anew
** in one transaction; a damaged index is replaced by a new one) and reports what changed on stderr; check verifies
** SQLite's, FTS5's and cnsearch's own invariants and that the index
** answers for the notes as they are now.
*/
#include <stdio.h>
#include "cli/cli.h"

int cli_index(const opts *o) {
  cns *h;
  cns_update_stats st;
  int flags = CNS_OPEN_CREATE | (o->rebuild ? CNS_OPEN_REBUILD : 0);
  if (cli_open(o, flags, &h)) return EXIT_ERROR;
  int rc = cli_update(o, h, o->rebuild, &st);
  if (rc == CNS_ECORRUPT && o->rebuild) {
    /* damage SQLite only found while reading: the index is a cache */
    fprintf(stderr, "cnsearch: index '%s' is damaged; making a new one\n",
            h->index_path);
    rc = cns_reset(h);
    if (!rc) rc = cli_update(o, h, 1, &st);
  }
  if (rc) rc = cli_fail_rc(h, rc);
  else if (!o->quiet)
    fprintf(stderr, "cnsearch: %ld notes: %ld added, %ld changed, %ld "
                    "removed, %ld unreadable\n",
            st.scanned, st.added, st.changed, st.removed, st.skipped);
  cns_close(h);
  return rc;
}

int cli_check(const opts *o) {
  cns *h;
  if (cli_open(o, 0, &h)) return EXIT_ERROR; /* FTS5's check writes */
  int rc = cns_check(h);
  if (rc) rc = cli_fail_rc(h, rc);
  else fprintf(stderr, "cnsearch: index is good\n");
  cns_close(h);
  return rc;
}
