/*
** timeit.c -- run commands many times, side by side, and report wall
** time percentiles and peak RSS.
**
**   timeit [-n RUNS] [-w WARMUP] [-p PREP] [-s SAMPLES] [-x OKCODES] [-v]
**          -- CMD ARGS... [::: CMD ARGS...]...
**
** The commands take turns: round 1 runs each once in the order given,
** then round 2, and so on, so that a shared, noisy machine slows every
** command alike and the ratios between them stay true.  Each run is
** fork + execvp + wait4, timed with CLOCK_MONOTONIC from just before the
** fork to just after the wait: process start to exit, as a user sees it.
** stdout and stderr go to /dev/null (-v keeps stderr).
**
** PREP, when given, runs through /bin/sh before every run, untimed, with
** TIMEIT_CMD set to the index (0-based) of the command about to run: it
** resets state ("rm -f db$TIMEIT_CMD.db") or makes a change ("echo x >>
** note.md").  Exit codes other than OKCODES (default "0,1": grep's "found"
** and "not found") are counted as failures and reported once on stderr.
**
** Output, one line per command:
**   IDX RUNS P50_MS P95_MS MIN_MS MAX_MS MEAN_MS MAXRSS_KB FAILS
** and with -s, every sample to SAMPLES as "IDX MS" lines.  Percentiles
** interpolate linearly between the nearest ranks.
*/
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct cmd {
  char **argv;
  double *ms;
  long maxrss;
  int fails;
  int reported;
} cmd;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void usage(void) {
  fprintf(stderr, "usage: timeit [-n RUNS] [-w WARMUP] [-p PREP] [-s SAMPLES] "
                  "[-x OKCODES] [-v] -- CMD... [::: CMD...]...\n");
  exit(2);
}

static int ok_code(const char *codes, int code) {
  char buf[256];
  snprintf(buf, sizeof buf, "%s", codes);
  for (char *t = strtok(buf, ","); t; t = strtok(NULL, ","))
    if (atoi(t) == code) return 1;
  return 0;
}

static void prep(const char *sh, int idx) {
  if (!sh) return;
  char num[16];
  snprintf(num, sizeof num, "%d", idx);
  setenv("TIMEIT_CMD", num, 1);
  int rc = system(sh);
  if (rc != 0) {
    fprintf(stderr, "timeit: prep '%s' failed (status %d)\n", sh, rc);
    exit(2);
  }
}

/* One run of c; returns milliseconds. */
static double run(cmd *c, int keep_stderr, const char *okcodes, int counted) {
  double t0 = now_ms();
  pid_t pid = fork();
  if (pid < 0) {
    perror("timeit: fork");
    exit(2);
  }
  if (pid == 0) {
    int fd = open("/dev/null", O_RDWR);
    dup2(fd, 0);
    dup2(fd, 1);
    if (!keep_stderr) dup2(fd, 2);
    execvp(c->argv[0], c->argv);
    fprintf(stderr, "timeit: cannot run '%s': %s\n", c->argv[0], strerror(errno));
    _exit(127);
  }
  int status;
  struct rusage ru;
  while (wait4(pid, &status, 0, &ru) < 0)
    if (errno != EINTR) {
      perror("timeit: wait4");
      exit(2);
    }
  double t = now_ms() - t0;
  if (ru.ru_maxrss > c->maxrss) c->maxrss = ru.ru_maxrss;
  int bad = WIFSIGNALED(status) ||
            (WIFEXITED(status) && !ok_code(okcodes, WEXITSTATUS(status)));
  if (bad) {
    c->fails += counted;
    if (!c->reported++) {
      fprintf(stderr, "timeit: '");
      for (char **a = c->argv; *a; a++) fprintf(stderr, "%s%s", a == c->argv ? "" : " ", *a);
      if (WIFSIGNALED(status)) fprintf(stderr, "' died of signal %d\n", WTERMSIG(status));
      else fprintf(stderr, "' exited with %d\n", WEXITSTATUS(status));
    }
  }
  return t;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double pct(const double *v, int n, double p) {
  double r = p * (n - 1);
  int i = (int)r;
  if (i + 1 >= n) return v[n - 1];
  return v[i] + (r - i) * (v[i + 1] - v[i]);
}

int main(int argc, char **argv) {
  int runs = 10, warmup = 1, keep_stderr = 0, opt;
  const char *prep_sh = NULL, *samples = NULL, *okcodes = "0,1";
  while ((opt = getopt(argc, argv, "+n:w:p:s:x:v")) != -1) {
    switch (opt) {
    case 'n': runs = atoi(optarg); break;
    case 'w': warmup = atoi(optarg); break;
    case 'p': prep_sh = optarg; break;
    case 's': samples = optarg; break;
    case 'x': okcodes = optarg; break;
    case 'v': keep_stderr = 1; break;
    default: usage();
    }
  }
  if (runs < 1 || warmup < 0 || optind >= argc) usage();
  cmd *cmds = calloc((size_t)argc, sizeof *cmds);
  int ncmd = 0;
  for (int i = optind; i < argc;) {
    cmd *c = &cmds[ncmd++];
    c->argv = &argv[i];
    while (i < argc && strcmp(argv[i], ":::") != 0) i++;
    if (i < argc) argv[i++] = NULL; /* argv[argc] is NULL already */
    if (!c->argv[0]) usage();
    c->ms = calloc((size_t)runs, sizeof *c->ms);
  }
  for (int r = 0; r < warmup + runs; r++)
    for (int i = 0; i < ncmd; i++) {
      prep(prep_sh, i);
      double t = run(&cmds[i], keep_stderr, okcodes, r >= warmup);
      if (r >= warmup) cmds[i].ms[r - warmup] = t;
    }
  FILE *sf = samples ? fopen(samples, "w") : NULL;
  if (samples && !sf) {
    fprintf(stderr, "timeit: cannot write '%s': %s\n", samples, strerror(errno));
    return 2;
  }
  for (int i = 0; i < ncmd; i++) {
    cmd *c = &cmds[i];
    double sum = 0;
    for (int k = 0; k < runs; k++) {
      sum += c->ms[k];
      if (sf) fprintf(sf, "%d %.3f\n", i, c->ms[k]);
    }
    qsort(c->ms, (size_t)runs, sizeof *c->ms, by_value);
    printf("%d %d %.3f %.3f %.3f %.3f %.3f %ld %d\n", i, runs,
           pct(c->ms, runs, 0.5), pct(c->ms, runs, 0.95), c->ms[0],
           c->ms[runs - 1], sum / runs, c->maxrss, c->fails);
  }
  if (sf) fclose(sf);
  return 0;
}
