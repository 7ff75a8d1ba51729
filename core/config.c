/*
** config.c -- ROOT/.cnsearch/config, the per-folder settings.
**
** One setting per line, `key = value`; blank lines and lines starting
** with '#' are comments.  The format is small enough that a parser
** library would be larger than the parser.  Keys:
**
**   extensions = md markdown mdx txt   file name endings indexed
**   ignore = drafts/                   a gitignore-style pattern (repeatable)
**   weight.title = 10                  BM25 field weights (also heading,
**                                      link, body)
**   snippet = 160                      snippet length in bytes
**   limit = 20                         default number of hits
**   watch = auto                       start a background `cnsearch watch`:
**                                      auto (large folders), always, never
**   watch.idle = 7d                    its life without searches (s, m, h,
**                                      d; a bare number is minutes)
**
** A line that is not one of these is an error naming the file and line,
** so a typo never silently changes what is indexed.  cfg_default() gives
** the values used without a config file.
*/
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cnsint.h"

static const char *default_exts[] = {"md", "markdown", "mdx", "txt"};

void cfg_default(cns_config *c) {
  memset(c, 0, sizeof *c);
  for (size_t i = 0; i < sizeof default_exts / sizeof *default_exts; i++)
    cfg_add(&c->exts, &c->nexts, default_exts[i]);
  c->weights[0] = 10.0;
  c->weights[1] = 4.0;
  c->weights[2] = 2.0;
  c->weights[3] = 1.0;
  c->snippet = 160;
  c->limit = 20;
  c->watch = CFG_WATCH_AUTO;
  c->watch_idle = 7 * 24 * 3600;
}

void cfg_add(char ***v, size_t *n, const char *s) {
  *v = cns_xrealloc(*v, (*n + 1) * sizeof **v);
  (*v)[(*n)++] = cns_xstrdup(s);
}

static void free_list(char **v, size_t n) {
  for (size_t i = 0; i < n; i++) free(v[i]);
  free(v);
}

void cfg_free(cns_config *c) {
  free_list(c->exts, c->nexts);
  free_list(c->ignores, c->nignores);
  memset(c, 0, sizeof *c);
}

static char *trim(char *s) {
  while (isspace((unsigned char)*s)) s++;
  char *e = s + strlen(s);
  while (e > s && isspace((unsigned char)e[-1])) *--e = 0;
  return s;
}

static int parse_number(const char *v, double lo, double hi, double *out) {
  char *end;
  errno = 0;
  double d = strtod(v, &end);
  if (errno || end == v || *end || d < lo || d > hi) return 0;
  *out = d;
  return 1;
}

static void set_exts(cns_config *c, char *v) {
  free_list(c->exts, c->nexts);
  c->exts = NULL;
  c->nexts = 0;
  for (char *w = strtok(v, " \t,"); w; w = strtok(NULL, " \t,"))
    cfg_add(&c->exts, &c->nexts, w[0] == '.' ? w + 1 : w);
}

int cfg_watch_mode(const char *v) {
  static const char *modes[] = {"auto", "never", "always"};
  for (int i = 0; i < 3; i++)
    if (strcmp(v, modes[i]) == 0) return i;
  return -1;
}

long cfg_duration(const char *v) {
  char *end;
  errno = 0;
  long n = strtol(v, &end, 10);
  long unit = !*end ? 60 : strcmp(end, "s") == 0 ? 1
              : strcmp(end, "m") == 0 ? 60 : strcmp(end, "h") == 0 ? 3600
              : strcmp(end, "d") == 0 ? 86400 : 0;
  if (errno || end == v || n <= 0 || n > 1000000 || !unit) return 0;
  return n * unit;
}

/* Apply one `key = value`; returns NULL or what is wrong. */
static const char *apply(cns_config *c, const char *key, char *val) {
  static const char *weights[] = {"weight.title", "weight.heading",
                                  "weight.link", "weight.body"};
  double d;
  for (int i = 0; i < 4; i++)
    if (strcmp(key, weights[i]) == 0)
      return parse_number(val, 0, 1000, &c->weights[i])
                 ? NULL : "a weight is a number from 0 to 1000";
  if (strcmp(key, "extensions") == 0) {
    set_exts(c, val);
    return c->nexts ? NULL : "extensions needs at least one";
  }
  if (strcmp(key, "ignore") == 0) {
    if (!*val) return "ignore needs a pattern";
    cfg_add(&c->ignores, &c->nignores, val);
    return NULL;
  }
  if (strcmp(key, "snippet") == 0) {
    if (!parse_number(val, 20, 10000, &d)) return "snippet is 20 to 10000 bytes";
    c->snippet = (int)d;
    return NULL;
  }
  if (strcmp(key, "watch") == 0) {
    c->watch = cfg_watch_mode(val);
    return c->watch >= 0 ? NULL : "watch is auto, never or always";
  }
  if (strcmp(key, "watch.idle") == 0) {
    c->watch_idle = cfg_duration(val);
    return c->watch_idle ? NULL
                         : "watch.idle is a time such as 90s, 30m, 2h or 7d";
  }
  if (strcmp(key, "limit") == 0) {
    if (!parse_number(val, 0, 1e9, &d)) return "limit is a number >= 0";
    c->limit = (long)d;
    return NULL;
  }
  return "unknown setting";
}

static int parse_line(cns_config *c, char *line, const char *path, long n,
                      buf *err) {
  char *s = trim(line);
  if (!*s || *s == '#') return CNS_OK;
  char *eq = strchr(s, '=');
  if (!eq) {
    buf_addf(err, "bad line in config '%s' line %ld: expected 'key = value'",
             path, n);
    return CNS_EUSAGE;
  }
  *eq = 0;
  char *key = trim(s), *val = trim(eq + 1);
  const char *why = apply(c, key, val);
  if (why) {
    buf_addf(err, "bad setting '%s' in config '%s' line %ld: %s", key, path,
             n, why);
    return CNS_EUSAGE;
  }
  return CNS_OK;
}

int cfg_load(cns_config *c, const char *path, buf *err) {
  FILE *f = fopen(path, "r");
  cfg_default(c);
  if (!f) {
    if (errno == ENOENT) return CNS_OK;
    buf_addf(err, "cannot read config '%s': %s", path, strerror(errno));
    return CNS_EIO;
  }
  char *line = NULL;
  size_t cap = 0;
  long n = 0;
  int rc = CNS_OK;
  while (!rc && getline(&line, &cap, f) >= 0)
    rc = parse_line(c, line, path, ++n, err);
  free(line);
  fclose(f);
  return rc;
}

/* The stamp is taken before the file is read: an edit in between makes
** the next comparison differ, which errs on the safe side.  The change
** time is in it because an edit that keeps the size can land within the
** file system's time granularity of the last one. */
void cfg_stamp_of(const char *path, cfg_stamp *out) {
  struct stat sb;
  memset(out, 0, sizeof *out);
  if (stat(path, &sb) != 0) return;
  out->seen = 1;
  out->dev = (unsigned long long)sb.st_dev;
  out->ino = (unsigned long long)sb.st_ino;
  out->size = (long long)sb.st_size;
  out->mtime_ns = (long long)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
  out->ctime_ns = (long long)sb.st_ctim.tv_sec * 1000000000 + sb.st_ctim.tv_nsec;
}

int cfg_stamp_same(const cfg_stamp *a, const cfg_stamp *b) {
  return a->seen == b->seen && a->dev == b->dev && a->ino == b->ino &&
         a->size == b->size && a->mtime_ns == b->mtime_ns &&
         a->ctime_ns == b->ctime_ns;
}
