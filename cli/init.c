/*
** init.c -- `cnsearch init [DIR]`: make DIR (default: the current
** folder) a notes root.
**
** Creates DIR/.cnsearch/ with a commented config holding the defaults,
** so the settings a person can change are in front of them, and, when
** DIR is a git work tree, adds ".cnsearch/" to its .gitignore so the
** index never gets committed.  An existing config is left alone.
*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cli/cli.h"

static const char config_text[] =
    "# cnsearch settings for this notes folder: `key = value`, '#' comments.\n"
    "# Uncomment a line to change it.\n"
    "\n"
    "# File endings indexed as notes.\n"
    "# extensions = md markdown mdx txt\n"
    "\n"
    "# Files and folders left out, gitignore-style (repeat the line for more).\n"
    "# .gitignore and .cnsearchignore files are honoured as well.\n"
    "# ignore = drafts/\n"
    "# ignore = *.tmp.md\n"
    "\n"
    "# Ranking: BM25 weight of each field.\n"
    "# weight.title = 10\n"
    "# weight.heading = 4\n"
    "# weight.link = 2\n"
    "# weight.body = 1\n"
    "\n"
    "# Snippet length in bytes, and hits shown by default (0 = all).\n"
    "# snippet = 160\n"
    "# limit = 20\n"
    "\n"
    "# In a folder of 1,000 notes or more, a search leaves\n"
    "# `cnsearch watch` running in the background, so the next one need not\n"
    "# walk (auto); always, or never.  It stops after watch.idle without a\n"
    "# search (90s, 30m, 2h, 7d).\n"
    "# watch = auto\n"
    "# watch.idle = 7d\n";

static int write_new(const char *path, const char *text) {
  FILE *f = fopen(path, "wx");
  if (!f) return errno == EEXIST ? 0 : -1;
  int ok = fputs(text, f) >= 0;
  return fclose(f) == 0 && ok ? 1 : -1;
}

/* Does .gitignore already hold a line ignoring .cnsearch? */
static int gitignore_has(const char *path) {
  FILE *f = fopen(path, "r");
  char line[512];
  int found = 0;
  if (!f) return 0;
  while (!found && fgets(line, sizeof line, f)) {
    line[strcspn(line, "\r\n")] = 0;
    found = strcmp(line, ".cnsearch/") == 0 || strcmp(line, ".cnsearch") == 0 ||
            strcmp(line, "/.cnsearch/") == 0 || strcmp(line, "/.cnsearch") == 0;
  }
  fclose(f);
  return found;
}

static int add_to_gitignore(const char *dir) {
  char *git = cns_xasprintf("%s/.git", dir);
  char *path = cns_xasprintf("%s/.gitignore", dir);
  struct stat st;
  int rc = 0;
  if (stat(git, &st) == 0 && !gitignore_has(path)) {
    FILE *f = fopen(path, "a");
    rc = !f || fputs(".cnsearch/\n", f) < 0 ? -1 : 1;
    if (f && fclose(f) != 0) rc = -1;
    if (rc < 0)
      fprintf(stderr, "cnsearch: cannot update '%s': %s\n", path,
              strerror(errno));
  }
  free(git);
  free(path);
  return rc;
}

int cli_init(const opts *o) {
  const char *dir = o->argc > 1 ? o->argv[1] : (o->dir ? o->dir : ".");
  struct stat st;
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
    fprintf(stderr, "cnsearch: '%s' is not a folder; create it first\n", dir);
    return EXIT_ERROR;
  }
  char *meta = cns_xasprintf("%s/.cnsearch", dir);
  char *cfg = cns_xasprintf("%s/config", meta);
  int rc = EXIT_FOUND;
  if (mkdir(meta, 0777) != 0 && errno != EEXIST) {
    fprintf(stderr, "cnsearch: cannot create '%s': %s\n", meta, strerror(errno));
    rc = EXIT_ERROR;
  } else {
    int made = write_new(cfg, config_text);
    if (made < 0) {
      fprintf(stderr, "cnsearch: cannot write '%s': %s\n", cfg, strerror(errno));
      rc = EXIT_ERROR;
    } else {
      fprintf(stderr, "cnsearch: %s '%s'\n", made ? "created" : "kept existing", cfg);
      if (add_to_gitignore(dir) > 0)
        fprintf(stderr, "cnsearch: added .cnsearch/ to '%s/.gitignore'\n", dir);
    }
  }
  free(meta);
  free(cfg);
  return rc;
}
