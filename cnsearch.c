/*
** cnsearch.c -- the command line: options, subcommands, exit codes.
**
** This is the only file that prints errors or exits.  It finds the notes
** root and the index, opens the library handle, runs one subcommand from
** the table below and maps the library's return codes to grep's exit
** status: 0 something found (or done), 1 nothing found, 2 error.  Every
** error is one line on stderr: "cnsearch: <what happened>; <what to do>".
**
** Options live in one table (short, long, argument, help) that also
** prints --help, as git does.  Output formats are printers chosen once
** here (query/print*.c); the search itself never knows which one is used.
*/
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cnsint.h"

#define EXIT_FOUND 0
#define EXIT_NONE 1
#define EXIT_ERROR 2

/* ---- options -------------------------------------------------------- */

typedef struct opts {
  const char *dir, *index, *color, *sort;
  long limit;
  int files, count, vimgrep, json, no_update, null_sep, absolute, explain;
  int rebuild, help, version, quiet;
  int argc;
  int before_dashdash; /* positionals seen before "--" */
  char **argv;         /* positional arguments; freed by main */
} opts;

enum { ARG_NONE, ARG_STR, ARG_LONG };

typedef struct option {
  char short_name;
  const char *long_name;
  int arg;
  size_t offset;
  const char *metavar, *help;
} option;

#define OFF(f) offsetof(opts, f)

static const option options[] = {
    {'C', "dir", ARG_STR, OFF(dir), "DIR", "notes folder (default: $CNSEARCH_NOTES, the nearest folder holding .cnsearch/, or .)"},
    {0, "index", ARG_STR, OFF(index), "FILE", "index file (default: $CNSEARCH_INDEX or ROOT/.cnsearch/index.db)"},
    {'n', "limit", ARG_LONG, OFF(limit), "N", "show at most N hits (default 20; 0 = all)"},
    {'l', "files-with-matches", ARG_NONE, OFF(files), NULL, "print each matching note once, best first"},
    {'c', "count", ARG_NONE, OFF(count), NULL, "print the number of hits per note"},
    {0, "vimgrep", ARG_NONE, OFF(vimgrep), NULL, "print path:line:column:snippet, one hit per line"},
    {0, "json", ARG_NONE, OFF(json), NULL, "print JSON Lines, one object per hit (docs/json.md)"},
    {0, "color", ARG_STR, OFF(color), "WHEN", "colour: auto (default), always or never; NO_COLOR is honoured"},
    {0, "sort", ARG_STR, OFF(sort), "BY", "order hits by rank (default), path or date"},
    {0, "null", ARG_NONE, OFF(null_sep), NULL, "end paths with NUL instead of newline (with -l/-c)"},
    {0, "absolute", ARG_NONE, OFF(absolute), NULL, "print absolute paths"},
    {0, "explain", ARG_NONE, OFF(explain), NULL, "show how each hit's score was formed"},
    {0, "no-update", ARG_NONE, OFF(no_update), NULL, "search the index as it is, without checking the notes for changes"},
    {0, "rebuild", ARG_NONE, OFF(rebuild), NULL, "with 'index': drop the index and build it again"},
    {'q', "quiet", ARG_NONE, OFF(quiet), NULL, "with 'index': print nothing but errors"},
    {'h', "help", ARG_NONE, OFF(help), NULL, "show this help"},
    {'V', "version", ARG_NONE, OFF(version), NULL, "show the version"},
};
#define NOPTIONS (sizeof options / sizeof *options)

static void die_usage(const char *fmt, ...) CNS_PRINTF(1, 2);
static void die_usage(const char *fmt, ...) {
  va_list ap;
  fputs("cnsearch: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputs("; see 'cnsearch --help'\n", stderr);
  exit(EXIT_ERROR);
}

static void print_help(void) {
  printf("usage: cnsearch [OPTIONS] [--] QUERY...      search the notes\n"
         "       cnsearch [OPTIONS] index [--rebuild]  bring the index up to date\n"
         "       cnsearch [OPTIONS] check               verify the index\n\n"
         "query: words (all must occur in a note), \"a phrase\", a OR b, -word,\n"
         "       prefix*, NEAR(a b, 5), title:/heading:/link:/body:word, tag:t,\n"
         "       path:/re/, heading:/re/, url:/re/, title:/re/i, /regex/,\n"
         "       after:YYYY-MM-DD, before:YYYY-MM\n\noptions:\n");
  for (size_t i = 0; i < NOPTIONS; i++) {
    const option *o = &options[i];
    char lhs[64];
    snprintf(lhs, sizeof lhs, "%c%c%s--%s%s%s", o->short_name ? '-' : ' ',
             o->short_name ? o->short_name : ' ', o->short_name ? ", " : "  ",
             o->long_name, o->metavar ? "=" : "", o->metavar ? o->metavar : "");
    printf("  %-28s %s\n", lhs, o->help);
  }
  printf("\nexit status: 0 hits found, 1 none, 2 error\n");
}

static void set_option(opts *o, const option *op, const char *val) {
  char *field = (char *)o + op->offset;
  if (op->arg == ARG_NONE) {
    *(int *)field = 1;
  } else if (op->arg == ARG_STR) {
    *(const char **)field = val;
  } else {
    char *end;
    errno = 0;
    long v = strtol(val, &end, 10);
    if (errno || *end || end == val || v < 0)
      die_usage("--%s wants a whole number >= 0, not '%s'", op->long_name,
                val);
    *(long *)field = v;
  }
}

static const option *find_long(const char *name, size_t n) {
  for (size_t i = 0; i < NOPTIONS; i++)
    if (strlen(options[i].long_name) == n &&
        strncmp(options[i].long_name, name, n) == 0)
      return &options[i];
  return NULL;
}

static const option *find_short(char c) {
  for (size_t i = 0; i < NOPTIONS; i++)
    if (options[i].short_name == c) return &options[i];
  return NULL;
}

/* Parse "--name[=value]"; returns how many argv entries it used. */
static int parse_long(opts *o, int argc, char **argv, int i) {
  const char *a = argv[i] + 2, *eq = strchr(a, '=');
  const option *op = find_long(a, eq ? (size_t)(eq - a) : strlen(a));
  if (!op) die_usage("unknown option '%s'", argv[i]);
  if (op->arg == ARG_NONE) {
    if (eq) die_usage("option '--%s' takes no value", op->long_name);
    set_option(o, op, NULL);
    return 1;
  }
  if (eq) {
    set_option(o, op, eq + 1);
    return 1;
  }
  if (i + 1 >= argc) die_usage("option '--%s' needs a value", op->long_name);
  set_option(o, op, argv[i + 1]);
  return 2;
}

/* Parse "-abc" or "-nVALUE"/"-n VALUE". */
static int parse_short(opts *o, int argc, char **argv, int i) {
  for (const char *p = argv[i] + 1; *p; p++) {
    const option *op = find_short(*p);
    if (!op) die_usage("unknown option '-%c'", *p);
    if (op->arg == ARG_NONE) {
      set_option(o, op, NULL);
      continue;
    }
    if (p[1]) {
      set_option(o, op, p + 1);
      return 1;
    }
    if (i + 1 >= argc) die_usage("option '-%c' needs a value", *p);
    set_option(o, op, argv[i + 1]);
    return 2;
  }
  return 1;
}

/* Options may come anywhere before "--"; a word starting with '-' that is
** not an option is a query word only after "--" (e.g. cnsearch -- -zero). */
static void parse_args(opts *o, int argc, char **argv) {
  o->limit = -1;
  o->argv = cns_xcalloc((size_t)argc + 1, sizeof *o->argv);
  int i = 1;
  while (i < argc) {
    const char *a = argv[i];
    if (strcmp(a, "--") == 0) {
      o->before_dashdash = o->argc;
      for (i++; i < argc; i++) o->argv[o->argc++] = argv[i];
      return;
    }
    if (a[0] == '-' && a[1] == '-') i += parse_long(o, argc, argv, i);
    else if (a[0] == '-' && a[1]) i += parse_short(o, argc, argv, i);
    else o->argv[o->argc++] = argv[i++];
  }
  o->before_dashdash = o->argc;
}

/* ---- where the notes and the index are ------------------------------ */

static char *find_marked_root(void) {
  char cwd[PATH_MAX];
  if (!getcwd(cwd, sizeof cwd)) return NULL;
  for (;;) {
    char *mark = cns_xasprintf("%s/.cnsearch", cwd);
    struct stat st;
    int found = stat(mark, &st) == 0 && S_ISDIR(st.st_mode);
    free(mark);
    if (found) return cns_xstrdup(cwd);
    char *slash = strrchr(cwd, '/');
    if (!slash || slash == cwd) return NULL;
    *slash = 0;
  }
}

static char *notes_root(const opts *o) {
  if (o->dir) return cns_xstrdup(o->dir);
  const char *env = getenv("CNSEARCH_NOTES");
  if (env && *env) return cns_xstrdup(env);
  char *marked = find_marked_root();
  return marked ? marked : cns_xstrdup(".");
}

static char *index_file(const opts *o, const char *root) {
  if (o->index) return cns_xstrdup(o->index);
  const char *env = getenv("CNSEARCH_INDEX");
  if (env && *env) return cns_xstrdup(env);
  return cns_xasprintf("%s/.cnsearch/index.db", root);
}

/* ---- running -------------------------------------------------------- */

static cns *g_handle; /* for the signal handler */

static void on_signal(int sig) {
  if (g_handle) cns_interrupt(g_handle);
  signal(sig, SIG_DFL);
}

static int fail(const char *msg) {
  fprintf(stderr, "cnsearch: %s\n", msg);
  return EXIT_ERROR;
}

static int fail_rc(cns *h, int rc) {
  fail(cns_errmsg(h));
  if (rc == CNS_EINTR) return 130;
  return EXIT_ERROR;
}

static void show_notice(cns *h) {
  const char *n = cns_take_notice(h);
  if (n) fprintf(stderr, "cnsearch: %s\n", n);
}

static void progress(void *arg, long done, long total) {
  fprintf(stderr, "\rcnsearch: indexing %ld/%ld notes", done, total);
  if (done == total) fputc('\n', stderr);
}

static int open_handle(const opts *o, int flags, cns **h) {
  char *root = notes_root(o), *index = index_file(o, root), *err = NULL;
  int rc = cns_open(root, index, flags, h, &err);
  free(root);
  free(index);
  if (rc) {
    fail(err);
    free(err);
    return EXIT_ERROR;
  }
  g_handle = *h;
  show_notice(*h);
  return 0;
}

static int update(const opts *o, cns *h, int rebuild, cns_update_stats *st) {
  int tty = isatty(2) && !o->quiet;
  int rc = cns_update(h, rebuild, st, tty ? progress : NULL, NULL);
  show_notice(h);
  return rc;
}

static int cmd_index(const opts *o) {
  cns *h;
  cns_update_stats st;
  if (open_handle(o, CNS_OPEN_CREATE, &h)) return EXIT_ERROR;
  int rc = update(o, h, o->rebuild, &st);
  if (rc) rc = fail_rc(h, rc);
  else if (!o->quiet)
    fprintf(stderr, "cnsearch: %ld notes: %ld added, %ld changed, %ld "
                    "removed, %ld unreadable\n",
            st.scanned, st.added, st.changed, st.removed, st.skipped);
  cns_close(h);
  return rc;
}

static int cmd_check(const opts *o) {
  cns *h;
  if (open_handle(o, 0, &h)) return EXIT_ERROR; /* FTS5's check writes */
  int rc = cns_check(h);
  if (rc) rc = fail_rc(h, rc);
  else fprintf(stderr, "cnsearch: index is good\n");
  cns_close(h);
  return rc;
}

static printer *choose_printer(const opts *o) {
  int formats = !!o->files + !!o->count + !!o->vimgrep + !!o->json;
  if (formats > 1)
    die_usage("choose one of -l, -c, --vimgrep and --json");
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
    die_usage("--color wants auto, always or never, not '%s'", c);
  const char *nc = getenv("NO_COLOR");
  return isatty(1) && !(nc && *nc);
}

static int sort_order(const opts *o) {
  if (!o->sort || strcmp(o->sort, "rank") == 0) return CNS_SORT_RANK;
  if (strcmp(o->sort, "path") == 0) return CNS_SORT_PATH;
  if (strcmp(o->sort, "date") == 0) return CNS_SORT_DATE;
  die_usage("--sort wants rank, path or date, not '%s'", o->sort);
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
  so.limit = o->limit < 0 ? 20 : o->limit;
  so.files_only = o->files;
  so.explain = o->explain;
  so.sort = sort_order(o);
  printer *p = choose_printer(o);
  setup_printer(p, o, h);
  cns_search *s;
  int rc = cns_search_new(h, query, &so, &s);
  if (rc) {
    p->free(p);
    return fail_rc(h, rc);
  }
  int n = print_hits(s, p);
  cns_search_free(s);
  p->free(p);
  if (n == 0) suggest(h, query);
  return n ? EXIT_FOUND : EXIT_NONE;
}

static int cmd_search(const opts *o) {
  cns *h;
  char *query = join_query(o);
  if (!query[0]) {
    free(query);
    die_usage("no query given");
  }
  int flags = o->no_update ? CNS_OPEN_READONLY : CNS_OPEN_CREATE;
  if (open_handle(o, flags, &h)) {
    free(query);
    return EXIT_ERROR;
  }
  int rc = 0;
  if (!o->no_update && (rc = update(o, h, 0, NULL)) != 0) rc = fail_rc(h, rc);
  if (!rc) rc = run_search(o, h, query);
  cns_close(h);
  free(query);
  return rc;
}

typedef struct command {
  const char *name;
  int (*run)(const opts *o);
} command;

static const command commands[] = {
    {"index", cmd_index},
    {"check", cmd_check},
};
#define NCOMMANDS (sizeof commands / sizeof *commands)

int main(int argc, char **argv) {
  opts o = {0};
  parse_args(&o, argc, argv);
  int rc;
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  if (o.help) {
    print_help();
    rc = 0;
  } else if (o.version) {
    printf("cnsearch %s (sqlite %s)\n", CNS_VERSION, sqlite3_libversion());
    rc = 0;
  } else {
    const command *cmd = NULL;
    for (size_t i = 0; o.before_dashdash && i < NCOMMANDS; i++)
      if (strcmp(o.argv[0], commands[i].name) == 0) cmd = &commands[i];
    if (cmd) {
      if (o.argc > 1) die_usage("'%s' takes no arguments", cmd->name);
      rc = cmd->run(&o);
    } else {
      rc = cmd_search(&o);
    }
  }
  free(o.argv);
  return rc;
}
