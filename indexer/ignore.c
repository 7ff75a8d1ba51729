/*
** ignore.c -- which files the walk leaves out: .gitignore and
** .cnsearchignore files, and the config's `ignore =` patterns.
**
** The rules are git's, as ripgrep applies them: one pattern per line;
** '#' starts a comment and '!' re-includes; a trailing '/' matches only
** folders; a pattern with a '/' elsewhere is anchored to the folder of
** the file that holds it, one without matches a name at any depth; the
** last matching line of a file wins, and a file deeper in the tree wins
** over one above it.  Globs go to fnmatch(3); a pattern holding "**" is
** matched without FNM_PATHNAME, so its stars may cross folders, which is
** what "**" means.  An ignored folder is not entered at all.
*/
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include "cnsint.h"

typedef struct rule {
  char *glob;
  int negate, dir_only, anchored, deep;
} rule;

struct ign_set {
  char *base;      /* folder the rules are relative to ("" for the root) */
  rule *v;
  size_t n;
};

static void add_rule(ign_set *s, const char *line, size_t len) {
  while (len && (line[len - 1] == ' ' || line[len - 1] == '\r')) len--;
  if (!len || line[0] == '#') return;
  rule r = {0};
  if (line[0] == '!') {
    r.negate = 1;
    line++;
    len--;
  } else if (line[0] == '\\' && len > 1) {
    line++;
    len--;
  }
  if (len && line[len - 1] == '/') {
    r.dir_only = 1;
    len--;
  }
  if (!len) return;
  r.anchored = memchr(line, '/', len) != NULL;
  if (line[0] == '/') {
    line++;
    len--;
  }
  r.glob = cns_xstrndup(line, len);
  r.deep = strstr(r.glob, "**") != NULL;
  s->v = cns_xrealloc(s->v, (s->n + 1) * sizeof *s->v);
  s->v[s->n++] = r;
}

ign_set *ign_parse(const char *base, const char *text, size_t len) {
  ign_set *s = cns_xcalloc(1, sizeof *s);
  s->base = cns_xstrdup(base);
  size_t i = 0;
  while (i < len) {
    const char *nl = memchr(text + i, '\n', len - i);
    size_t end = nl ? (size_t)(nl - text) : len;
    add_rule(s, text + i, end - i);
    i = end + 1;
  }
  return s;
}

void ign_free(ign_set *s) {
  if (!s) return;
  for (size_t i = 0; i < s->n; i++) free(s->v[i].glob);
  free(s->v);
  free(s->base);
  free(s);
}

static int rule_matches(const rule *r, const char *rel, const char *name,
                        int is_dir) {
  if (r->dir_only && !is_dir) return 0;
  if (!r->anchored) return fnmatch(r->glob, name, 0) == 0;
  int flags = r->deep ? 0 : FNM_PATHNAME;
  if (fnmatch(r->glob, rel, flags) == 0) return 1;
  /* "**" also matches nothing: a leading "** /" matches at the top too */
  return r->deep && strncmp(r->glob, "**/", 3) == 0 &&
         fnmatch(r->glob + 3, rel, 0) == 0;
}

int ign_match(const ign_set *s, const char *path, int is_dir) {
  size_t bl = strlen(s->base);
  if (bl && (strncmp(path, s->base, bl) != 0 || path[bl] != '/')) return 0;
  const char *rel = bl ? path + bl + 1 : path;
  const char *name = strrchr(path, '/');
  name = name ? name + 1 : path;
  for (size_t i = s->n; i-- > 0;)
    if (rule_matches(&s->v[i], rel, name, is_dir))
      return s->v[i].negate ? -1 : 1;
  return 0;
}
