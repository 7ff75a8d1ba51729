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
#include <time.h>
#include <unistd.h>
#include "cli/cli.h"


/* ---- options -------------------------------------------------------- */

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
    {0, "no-linked", ARG_NONE, OFF(no_linked), NULL, "search the notes alone, not the pages they link to (see 'fetch')"},
    {0, "no-update", ARG_NONE, OFF(no_update), NULL, "search the index as it is, without checking the notes for changes"},
    {0, "rebuild", ARG_NONE, OFF(rebuild), NULL, "with 'index': drop the index and build it again"},
    {'q', "quiet", ARG_NONE, OFF(quiet), NULL, "with index, fetch and watch: print nothing but errors"},
    {0, "idle", ARG_STR, OFF(idle), "TIME", "with 'watch': stop after TIME (90s, 30m, 2h, 7d) without a search"},
    {0, "jobs", ARG_LONG, OFF(jobs), "N", "with 'fetch': downloads at once (default 8; at most 2 per site)"},
    {0, "refresh", ARG_NONE, OFF(refresh), NULL, "with 'fetch': fetch every linked page again, revalidating"},
    {0, "max-age", ARG_LONG, OFF(max_age), "DAYS", "with 'fetch': fetch again pages older than DAYS days"},
    {0, "failed", ARG_NONE, OFF(failed), NULL, "with 'fetch': list the pages that failed and why"},
    {'h', "help", ARG_NONE, OFF(help), NULL, "show this help"},
    {'V', "version", ARG_NONE, OFF(version), NULL, "show the version"},
};
#define NOPTIONS (sizeof options / sizeof *options)

void cli_die_usage(const char *fmt, ...) {
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
         "       cnsearch [OPTIONS] index PATH...      the same for these notes and folders only\n"
         "       cnsearch [OPTIONS] check               verify the index\n"
         "       cnsearch [OPTIONS] init [DIR]          make DIR a notes folder (.cnsearch/config)\n"
         "       cnsearch [OPTIONS] watch               keep the index fresh as notes change\n"
         "       cnsearch [OPTIONS] tags                list tags with their note counts\n"
         "       cnsearch [OPTIONS] stats               what the index holds\n"
         "       cnsearch [OPTIONS] fetch [--refresh]   download the pages the notes link to\n"
         "       cnsearch [OPTIONS] links NOTE          a note's links and backlinks\n\n"
         "query: words (all must occur in a note), \"a phrase\", a OR b, -word,\n"
         "       prefix*, NEAR(a b, 5), title:/heading:/link:/body:word, tag:t,\n"
         "       path:/re/, heading:/re/, url:/re/, title:/re/i, /regex/,\n"
         "       after:YYYY-MM-DD, before:YYYY-MM, links-to:NOTE, linked-from:NOTE\n"
         "\noptions:\n");
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
      cli_die_usage("--%s wants a whole number >= 0, not '%s'", op->long_name,
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
  if (!op) cli_die_usage("unknown option '%s'", argv[i]);
  if (op->arg == ARG_NONE) {
    if (eq) cli_die_usage("option '--%s' takes no value", op->long_name);
    set_option(o, op, NULL);
    return 1;
  }
  if (eq) {
    set_option(o, op, eq + 1);
    return 1;
  }
  if (i + 1 >= argc) cli_die_usage("option '--%s' needs a value", op->long_name);
  set_option(o, op, argv[i + 1]);
  return 2;
}

/* Parse "-abc" or "-nVALUE"/"-n VALUE". */
static int parse_short(opts *o, int argc, char **argv, int i) {
  for (const char *p = argv[i] + 1; *p; p++) {
    const option *op = find_short(*p);
    if (!op) cli_die_usage("unknown option '-%c'", *p);
    if (op->arg == ARG_NONE) {
      set_option(o, op, NULL);
      continue;
    }
    if (p[1]) {
      set_option(o, op, p + 1);
      return 1;
    }
    if (i + 1 >= argc) cli_die_usage("option '-%c' needs a value", *p);
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

char *cli_notes_root(const opts *o) {
  if (o->dir) return cns_xstrdup(o->dir);
  const char *env = getenv("CNSEARCH_NOTES");
  if (env && *env) return cns_xstrdup(env);
  char *marked = find_marked_root();
  return marked ? marked : cns_xstrdup(".");
}

char *cli_index_file(const opts *o, const char *root) {
  if (o->index) return cns_xstrdup(o->index);
  const char *env = getenv("CNSEARCH_INDEX");
  if (env && *env) return cns_xstrdup(env);
  return cns_xasprintf("%s/.cnsearch/index.db", root);
}

/* ---- running -------------------------------------------------------- */

static cns *g_handle; /* for the signal handler */

volatile sig_atomic_t cli_signal;

static void on_signal(int sig) {
  cli_signal = sig;
  if (g_handle) cns_interrupt(g_handle);
  signal(sig, SIG_DFL);
}

int cli_fail(const char *msg) {
  fprintf(stderr, "cnsearch: %s\n", msg);
  return EXIT_ERROR;
}

int cli_fail_to(FILE *err, cns *h, int rc) {
  fprintf(err, "cnsearch: %s\n", cns_errmsg(h));
  if (rc == CNS_EINTR) return 128 + (cli_signal ? cli_signal : SIGINT);
  return EXIT_ERROR;
}

int cli_fail_rc(cns *h, int rc) {
  return cli_fail_to(stderr, h, rc);
}

void cli_notice_to(FILE *err, cns *h) {
  const char *n = cns_take_notice(h);
  if (n) fprintf(err, "cnsearch: %s\n", n);
}

void cli_show_notice(cns *h) {
  cli_notice_to(stderr, h);
}

static double now_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Progress on a terminal, once an update has run for a second: count,
** rate and time left. */
static void progress(void *arg, long done, long total) {
  static double start;
  static int shown;
  double t = now_seconds();
  if (!start) start = t;
  if (t - start < 1.0 && !shown) return;
  shown = 1;
  double rate = done / (t - start > 0 ? t - start : 1e-9);
  fprintf(stderr, "\r\033[Kcnsearch: indexing %ld/%ld notes, %.0f/s", done,
          total, rate);
  if (done < total && rate > 0)
    fprintf(stderr, ", %.0f s left", (double)(total - done) / rate);
  if (done == total) fputc('\n', stderr);
}

int cli_check_env(void) {
  const char *w = getenv("CNSEARCH_WATCH");
  if (w && *w && cfg_watch_mode(w) < 0) {
    fprintf(stderr, "cnsearch: CNSEARCH_WATCH is '%s'; set it to auto, "
                    "never or always\n", w);
    return EXIT_ERROR;
  }
  return 0;
}

int cli_open(const opts *o, int flags, cns **h) {
  if (cli_check_env()) return EXIT_ERROR;
  char *root = cli_notes_root(o), *index = cli_index_file(o, root);
  char *err = NULL;
  int rc = cns_open(root, index, flags, h, &err);
  free(root);
  free(index);
  if (rc) {
    cli_fail(err);
    free(err);
    return EXIT_ERROR;
  }
  g_handle = *h;
  if (cli_signal) cns_interrupt(*h); /* a signal before the handle existed */
  cli_show_notice(*h);
  return 0;
}

int cli_update(const opts *o, cns *h, int rebuild, cns_update_stats *st) {
  cns_update_stats local;
  int tty = isatty(2) && !o->quiet;
  if (!st) st = &local;
  int rc = cns_update(h, rebuild, st, tty ? progress : NULL, NULL);
  cli_show_notice(h);
  if (!rc) cli_autowatch(o, h, st->scanned);
  return rc;
}

int cli_freshen(const opts *o, cns *h, cns_update_stats *st, int *watched) {
  int w = cns_watcher_sync(h, st);
  if (watched) *watched = w;
  return w ? CNS_OK : cli_update(o, h, 0, st);
}

static const command commands[] = {
    {"index", cli_index, -1},
    {"check", cli_check, 0},
    {"init", cli_init, 1},
    {"tags", cli_tags, 0},
    {"stats", cli_stats, 0},
    {"watch", cli_watch, 0},
    {"fetch", cli_fetch, 0},
    {"links", cli_links, 1},
};
#define NCOMMANDS (sizeof commands / sizeof *commands)

char **cli_argv;

int main(int argc, char **argv) {
  opts o = {0};
  cli_argv = argv;
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
      if (cmd->max_args >= 0 && o.argc - 1 > cmd->max_args)
        cli_die_usage("'%s' takes %s", cmd->name,
                      cmd->max_args ? "one argument" : "no arguments");
      rc = cmd->run(&o);
    } else {
      rc = cli_search(&o);
    }
  }
  free(o.argv);
  return rc;
}
