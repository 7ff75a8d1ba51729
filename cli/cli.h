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
void cli_show_notice(cns *h);
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
