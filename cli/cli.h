/*
** cli.h -- what the command line's files share: the parsed options, exit
** codes, and the helpers that open the index and report errors.
**
** cnsearch.c owns main(), the option table and the command table; each
** file under cli/ owns one subcommand.  Only these files print errors.
*/
#ifndef CLI_H
#define CLI_H

#include <signal.h>
#include "cnsint.h"

#define EXIT_FOUND 0
#define EXIT_NONE 1
#define EXIT_ERROR 2

typedef struct opts {
  const char *dir, *index, *color, *sort;
  const char *idle;    /* watch: --idle */
  long limit;
  int files, count, vimgrep, json, no_update, null_sep, absolute, explain;
  int no_linked;
  int rebuild, help, version, quiet;
  long jobs, max_age;  /* fetch: --jobs, --max-age */
  int refresh, failed; /* fetch: --refresh, --failed */
  int argc;
  int before_dashdash; /* positionals seen before "--" */
  char **argv;         /* positional arguments; freed by main */
} opts;

typedef struct command {
  const char *name;
  int (*run)(const opts *o); /* its arguments are o->argv[1 .. o->argc) */
  int max_args;               /* -1: any number */
} command;

/* The signal that interrupted the command (SIGINT, SIGTERM), or 0. */
extern volatile sig_atomic_t cli_signal;
/* main()'s argv, for handing a command to another program. */
extern char **cli_argv;

/* Print "cnsearch: MSG; see 'cnsearch --help'" and exit 2. */
void cli_die_usage(const char *fmt, ...) CNS_PRINTF(1, 2) CNS_NORETURN;
/* Print "cnsearch: MSG" on stderr; return 2. */
int cli_fail(const char *msg);
/* Print the handle's error; return the exit code for rc (2, or 130). */
int cli_fail_rc(cns *h, int rc);
int cli_fail_to(FILE *err, cns *h, int rc);   /* the same, onto err */
void cli_show_notice(cns *h);
void cli_notice_to(FILE *err, cns *h);
/* The notes root and the index file the options and environment name
** (-C, CNSEARCH_NOTES, a folder holding .cnsearch/, else "."; --index,
** CNSEARCH_INDEX, else ROOT/.cnsearch/index.db).  Caller frees. */
char *cli_notes_root(const opts *o);
char *cli_index_file(const opts *o, const char *root);
/* The environment's settings that are wrong: printed, and 2; else 0. */
int cli_check_env(void);
/* Open the index for o's notes root; on error print it and return 2. */
int cli_open(const opts *o, int flags, cns **h);
/* Bring the index up to date, with progress on a terminal; then, for a
** large folder, start a watcher (cli_autowatch()). */
int cli_update(const opts *o, cns *h, int rebuild, cns_update_stats *st);
/* Bring the index up to date before a command reads it: a running
** `cnsearch watch` is asked to catch up (*watched, may be NULL, set to
** 1), else cli_update() walks the notes.  st may be NULL. */
int cli_freshen(const opts *o, cns *h, cns_update_stats *st, int *watched);
/* Start `cnsearch watch` in the background if the config asks for one
** and a walk of `notes` notes was just needed (cli/autowatch.c). */
void cli_autowatch(const opts *o, cns *h, long notes);

/* A search: where it stands (its working folder, for printed paths) and
** where it writes.  A search run for another process (cli/serve.c)
** writes into memory streams that are sent back to it. */
typedef struct search_io {
  const char *cwd;
  FILE *out, *err;
} search_io;
/* cli/search.c: the query the arguments make (caller frees); the usage
** mistakes in o (1 and a message in msg); --color with "auto" decided
** for this process; one search on an open index, and its exit code. */
char *cli_join_query(const opts *o);
int cli_search_check(const opts *o, char *msg, size_t cap);
const char *cli_search_color(const opts *o);
int cli_search_run(const opts *o, cns *h, const char *query,
                   const search_io *io);
/* cli/serve.c: ask the index's watcher to run the search, and pass its
** output on; the exit code, or -1 when no watcher answered (nothing was
** written then).  cli_serve() is the watcher's side (cns_serve_fn). */
int cli_serve_ask(const opts *o, const char *query);
int cli_serve(void *arg, cns *h, const char *req, size_t len, FILE *out,
              buf *err);

/* Subcommands, one file each. */
int cli_search(const opts *o);  /* cli/search.c */
int cli_index(const opts *o);   /* cli/index.c */
int cli_check(const opts *o);   /* cli/index.c */
int cli_init(const opts *o);    /* cli/init.c */
int cli_tags(const opts *o);    /* cli/stats.c */
int cli_stats(const opts *o);   /* cli/stats.c */
int cli_watch(const opts *o);   /* cli/watch.c */
int cli_fetch(const opts *o);   /* cli/fetch.c */
int cli_links(const opts *o);   /* cli/links.c */

#endif
