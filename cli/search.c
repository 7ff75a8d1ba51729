/*
** search.c -- the default command: search the notes.
**
** Joins the arguments into one query, brings the index up to date unless
** --no-update, runs the search and hands each hit to the printer chosen
** by the options.  Exit 0 with hits, 1 without (with a "did you mean"
** on stderr when the index knows close words), 2 on errors -- and an
** error is always reported before anything is printed.
**
** When a watcher runs for the index, it is asked to do all of that
** instead (cli/serve.c): its index is open, its statements are ready and
** its pages are in memory, so its answer costs about half of what this
** process would spend opening the index alone.  cli_search_run() is the
** part both share; the options are checked before either runs.
*/
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli/cli.h"

/* The usage mistakes in o, as a message in msg (0 if none).  Checked
** before anything runs, here or in a watcher (cli/serve.c). */
int cli_search_check(const opts *o, char *msg, size_t cap) {
  int formats = !!o->files + !!o->count + !!o->vimgrep + !!o->json;
  const char *c = o->color ? o->color : "auto";
  if (formats > 1)
    snprintf(msg, cap, "choose one of -l, -c, --vimgrep and --json");
  else if (o->sort && strcmp(o->sort, "rank") && strcmp(o->sort, "path") &&
           strcmp(o->sort, "date"))
    snprintf(msg, cap, "--sort wants rank, path or date, not '%s'", o->sort);
  else if (strcmp(c, "auto") && strcmp(c, "always") && strcmp(c, "never"))
    snprintf(msg, cap, "--color wants auto, always or never, not '%s'", c);
  else
    return 0;
  return 1;
}

static printer *choose_printer(const opts *o) {
  if (o->files) return print_files_new();
  if (o->count) return print_count_new();
  if (o->vimgrep) return print_vimgrep_new();
  if (o->json) return print_json_new();
  return print_human_new();
}

/* --color, with "auto" decided for this process's stdout. */
const char *cli_search_color(const opts *o) {
  const char *c = o->color ? o->color : "auto";
  if (strcmp(c, "auto") != 0) return c;
  const char *nc = getenv("NO_COLOR");
  return isatty(1) && !(nc && *nc) ? "always" : "never";
}

static int sort_order(const opts *o) {
  if (o->sort && strcmp(o->sort, "path") == 0) return CNS_SORT_PATH;
  if (o->sort && strcmp(o->sort, "date") == 0) return CNS_SORT_DATE;
  return CNS_SORT_RANK;
}

char *cli_join_query(const opts *o) {
  buf q = BUF_INIT;
  for (int i = 0; i < o->argc; i++) {
    if (i) buf_addc(&q, ' ');
    buf_adds(&q, o->argv[i]);
  }
  return buf_detach(&q);
}

static void setup_printer(printer *p, const opts *o, const cns *h,
                          const search_io *io) {
  p->color = strcmp(cli_search_color(o), "always") == 0;
  p->null_sep = o->null_sep;
  p->absolute = o->absolute;
  p->root = h->root;
  p->cwd = io->cwd;
  p->out = io->out;
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
  return n;
}

static void suggest(cns *h, const char *query, FILE *err) {
  char *s = cns_suggest(h, query, 3);
  if (s) fprintf(err, "cnsearch: no match; did you mean: %s?\n", s);
  free(s);
}

int cli_search_run(const opts *o, cns *h, const char *query,
                   const search_io *io) {
  cns_search_opts so = {0};
  so.limit = o->limit; /* -1 when not given: the config's default */
  so.files_only = o->files;
  so.explain = o->explain;
  so.no_linked = o->no_linked;
  so.sort = sort_order(o);
  so.cwd = io->cwd;
  printer *p = choose_printer(o);
  setup_printer(p, o, h, io);
  cns_search *s;
  int rc = cns_search_new(h, query, &so, &s);
  if (rc) {
    p->free(p);
    return cli_fail_to(io->err, h, rc);
  }
  cli_notice_to(io->err, h);
  int n = print_hits(s, p);
  cns_search_free(s);
  p->free(p);
  if (n == 0) suggest(h, query, io->err);
  return n ? EXIT_FOUND : EXIT_NONE;
}

/* Search in this process: open the index, bring it up to date unless
** --no-update, and run the search. */
static int search_here(const opts *o, const char *query) {
  cns *h;
  char cwd[PATH_MAX];
  search_io io = {getcwd(cwd, sizeof cwd) ? cwd : "/", stdout, stderr};
  int flags = o->no_update ? CNS_OPEN_READONLY : CNS_OPEN_CREATE;
  if (cli_open(o, flags, &h)) return EXIT_ERROR;
  int rc = 0;
  if (!o->no_update && (rc = cli_freshen(o, h, NULL, NULL)) != 0)
    rc = cli_fail_rc(h, rc);
  if (!rc) rc = cli_search_run(o, h, query, &io);
  /* a --no-update search walks nothing, yet the next one is answered
  ** sooner by a watcher too: the index says how many notes there are */
  if (o->no_update && rc != EXIT_ERROR && access(h->index_path, W_OK) == 0)
    cli_autowatch(o, h, cns_note_count(h));
  cns_close(h);
  return rc;
}

int cli_search(const opts *o) {
  char msg[256], *query = cli_join_query(o);
  if (!query[0]) {
    free(query);
    cli_die_usage("no query given");
  }
  if (cli_search_check(o, msg, sizeof msg)) {
    free(query);
    cli_die_usage("%s", msg);
  }
  int rc = cli_check_env();
  if (!rc) rc = cli_serve_ask(o, query); /* a running watcher answers */
  if (rc < 0) rc = search_here(o, query);
  free(query);
  return rc;
}
