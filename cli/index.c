/*
** index.c -- `cnsearch index` and `cnsearch check`.
**
** index brings the index up to date (or, with --rebuild, builds it anew
** in one transaction) and reports what changed on stderr; check verifies
** SQLite's, FTS5's and cnsearch's own invariants and that the index
** answers for the notes as they are now.
*/
#include <stdio.h>
#include "cli/cli.h"

int cli_index(const opts *o) {
  cns *h;
  cns_update_stats st;
  if (cli_open(o, CNS_OPEN_CREATE, &h)) return EXIT_ERROR;
  int rc = cli_update(o, h, o->rebuild, &st);
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
