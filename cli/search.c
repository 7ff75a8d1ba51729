/*
** search.c -- the default command: search the notes.
**
** Joins the arguments into one query, brings the index up to date unless
** --no-update, runs the search and hands each hit to the printer chosen
** by the options.  Exit 0 with hits, 1 without (with a "did you mean"
** on stderr when the index knows close words), 2 on errors -- and an
** error is always reported before anything is printed.
*/
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli/cli.h"

static printer *choose_printer(const opts *o) {
  int formats = !!o->files + !!o->count + !!o->vimgrep + !!o->json;
  if (formats > 1)
    cli_die_usage("choose one of -l, -c, --vimgrep and --json");
  if (o->files) return print_files_new();
  if (o->count) return print_count_new();
  if (o->vimgrep) return print_vimgrep_new();
  if (o->json) return print_json_new();
  return print_human_new();
}

static int want_color(const opts *o) {
  const char *c = o->color ? o->color : "auto";
  if (strcmp(c, "always") == 0) return 1;
  if (strcmp(c, "never") == 0) return 0;
  if (strcmp(c, "auto") != 0)
    cli_die_usage("--color wants auto, always or never, not '%s'", c);
  const char *nc = getenv("NO_COLOR");
  return isatty(1) && !(nc && *nc);
}

static int sort_order(const opts *o) {
  if (!o->sort || strcmp(o->sort, "rank") == 0) return CNS_SORT_RANK;
  if (strcmp(o->sort, "path") == 0) return CNS_SORT_PATH;
  if (strcmp(o->sort, "date") == 0) return CNS_SORT_DATE;
  cli_die_usage("--sort wants rank, path or date, not '%s'", o->sort);
  return CNS_SORT_RANK;
}

static char *join_query(const opts *o) {
  buf q = BUF_INIT;
  for (int i = 0; i < o->argc; i++) {
    if (i) buf_addc(&q, ' ');
    buf_adds(&q, o->argv[i]);
  }
  return buf_detach(&q);
}

static void setup_printer(printer *p, const opts *o, const cns *h) {
  static char cwd[PATH_MAX];
  p->color = want_color(o);
  p->null_sep = o->null_sep;
  p->absolute = o->absolute;
  p->root = h->root;
  p->cwd = getcwd(cwd, sizeof cwd) ? cwd : "/";
}

static int print_hits(cns_search *s, printer *p) {
  const cns_hit *hit;
  int n = 0;
  p->begin(p);
  while (cns_search_next(s, &hit) == CNS_OK) {
    p->hit(p, hit);
    n++;
  }
  p->end(p);
  fflush(stdout);
  return n;
}

static void suggest(cns *h, const char *query) {
  char *s = cns_suggest(h, query, 3);
  if (s) fprintf(stderr, "cnsearch: no match; did you mean: %s?\n", s);
  free(s);
}

static int run_search(const opts *o, cns *h, const char *query) {
  cns_search_opts so = {0};
  so.limit = o->limit; /* -1 when not given: the config's default */
  so.files_only = o->files;
  so.explain = o->explain;
  so.no_linked = o->no_linked;
  so.sort = sort_order(o);
  printer *p = choose_printer(o);
  setup_printer(p, o, h);
  cns_search *s;
  int rc = cns_search_new(h, query, &so, &s);
  if (rc) {
    p->free(p);
    return cli_fail_rc(h, rc);
  }
  cli_show_notice(h);
  int n = print_hits(s, p);
  cns_search_free(s);
  p->free(p);
  if (n == 0) suggest(h, query);
  return n ? EXIT_FOUND : EXIT_NONE;
}

int cli_search(const opts *o) {
  cns *h;
  char *query = join_query(o);
  if (!query[0]) {
    free(query);
    cli_die_usage("no query given");
  }
  int flags = o->no_update ? CNS_OPEN_READONLY : CNS_OPEN_CREATE;
  if (cli_open(o, flags, &h)) {
    free(query);
    return EXIT_ERROR;
  }
  int rc = 0;
  if (!o->no_update && (rc = cli_freshen(o, h, NULL, NULL)) != 0)
    rc = cli_fail_rc(h, rc);
  if (!rc) rc = run_search(o, h, query);
  cns_close(h);
  free(query);
  return rc;
}
