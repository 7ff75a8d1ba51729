/*
** index.c -- `cnsearch index` and `cnsearch check`.
**
** index brings the index up to date (or, with --rebuild, builds it anew
** in one transaction; a damaged index is replaced by a new one) and
** reports what changed on stderr.  Given paths (`cnsearch index
** notes/a.md`, what an editor runs on save), it looks at those files and
** folders only: the cost of the paths, not of the whole notes folder.
** check verifies SQLite's, FTS5's and cnsearch's own invariants, that
** the folder briefs agree with the notes, that each full-text index holds
** what its text does (store_check indexes the text afresh to compare),
** and that the index answers for the notes as they are now.
*/
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include "cli/cli.h"

/* arg (absolute, or relative to the current folder) as an absolute path
** with no symbolic links in what exists of it: the longest leading part
** that exists is resolved, and the rest (a note or folder that is gone)
** is appended as written, unless it holds "." or "..".  NULL if it cannot
** be.  Caller frees. */
static char *resolve(const char *arg) {
  char real[PATH_MAX], *p = cns_xstrdup(arg);
  char *gone[64]; /* missing components (copies), last first */
  size_t ngone = 0, n = strlen(p);
  int ok = 1;
  while (n > 1 && p[n - 1] == '/') p[--n] = 0;
  while (!realpath(p[0] ? p : ".", real)) {
    char *slash = strrchr(p, '/');
    const char *comp = slash ? slash + 1 : p;
    ok = comp[0] && strcmp(comp, ".") != 0 && strcmp(comp, "..") != 0 &&
         ngone < sizeof gone / sizeof *gone;
    if (!ok) break;
    gone[ngone++] = cns_xstrdup(comp);
    if (!slash) p[0] = 0;          /* "name": in the current folder */
    else if (slash == p) p[1] = 0; /* "/name": at the top */
    else *slash = 0;
  }
  buf b = BUF_INIT;
  if (ok) buf_adds(&b, real);
  for (size_t i = ngone; i-- > 0;) {
    if (ok && b.p[b.len - 1] != '/') buf_addc(&b, '/');
    if (ok) buf_adds(&b, gone[i]);
    free(gone[i]);
  }
  free(p);
  return ok ? buf_detach(&b) : NULL;
}

/* arg as a path relative to root ("" for root itself), without a
** trailing '/'; NULL if it lies outside.  Caller frees. */
static char *root_relative(const char *root, const char *arg) {
  char *abs = resolve(arg), *out = NULL;
  size_t rl = strlen(root);
  if (abs && strncmp(abs, root, rl) == 0 && (abs[rl] == 0 || abs[rl] == '/')) {
    out = cns_xstrdup(abs[rl] ? abs + rl + 1 : "");
    size_t n = strlen(out);
    while (n && out[n - 1] == '/') out[--n] = 0;
  }
  free(abs);
  return out;
}

static void report(const cns_update_stats *st, int watched) {
  if (watched)
    fprintf(stderr, "cnsearch: kept fresh by 'cnsearch watch', which just "
                    "applied %ld added, %ld changed, %ld removed, %ld "
                    "unreadable\n",
            st->added, st->changed, st->removed, st->skipped);
  else
    fprintf(stderr, "cnsearch: %ld notes: %ld added, %ld changed, %ld "
                    "removed, %ld unreadable\n",
            st->scanned, st->added, st->changed, st->removed, st->skipped);
}

/* The update for `index PATH...`; -1 when a path is outside the notes
** folder (said here). */
static int update_paths(const opts *o, cns *h, cns_update_stats *st) {
  size_t n = (size_t)o->argc - 1;
  char **rel = cns_xcalloc(n + 1, sizeof *rel);
  int rc = CNS_OK;
  for (size_t i = 0; i < n && !rc; i++)
    if (!(rel[i] = root_relative(h->root, o->argv[i + 1]))) {
      fprintf(stderr, "cnsearch: '%s' is not inside the notes folder '%s'; "
                      "give a note or folder below it\n",
              o->argv[i + 1], h->root);
      rc = -1;
    }
  if (!rc) rc = cns_update_paths(h, (const char *const *)rel, n, st);
  for (size_t i = 0; i < n; i++) free(rel[i]);
  free(rel);
  return rc;
}

/* The update for `index` and `index --rebuild`.  A running `cnsearch
** watch` already keeps the index: it is asked to catch up instead of
** walking every note (*watched set); a rebuild is always done here. */
static int update_all(const opts *o, cns *h, cns_update_stats *st,
                      int *watched) {
  int rc = o->rebuild ? cli_update(o, h, 1, st)
                      : cli_freshen(o, h, st, watched);
  if (rc == CNS_ECORRUPT && o->rebuild) {
    /* damage SQLite only found while reading: the index is a cache */
    fprintf(stderr, "cnsearch: index '%s' is damaged; making a new one\n",
            h->index_path);
    rc = cns_reset(h);
    if (!rc) rc = cli_update(o, h, 1, st);
  }
  return rc;
}

int cli_index(const opts *o) {
  cns *h;
  cns_update_stats st;
  int flags = CNS_OPEN_CREATE | (o->rebuild ? CNS_OPEN_REBUILD : 0);
  if (o->argc > 1 && o->rebuild)
    cli_die_usage("'index --rebuild' takes no paths: it rebuilds everything");
  if (cli_open(o, flags, &h)) return EXIT_ERROR;
  int watched = 0;
  int rc = o->argc > 1 ? update_paths(o, h, &st)
                       : update_all(o, h, &st, &watched);
  if (rc == -1) rc = EXIT_ERROR;
  else if (rc) rc = cli_fail_rc(h, rc);
  else if (!o->quiet) report(&st, watched);
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
