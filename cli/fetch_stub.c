/*
** fetch_stub.c -- `cnsearch fetch` in the search program: run
** cnsearch-fetch.
**
** libcurl and libxml2 (and the TLS, GSSAPI and LDAP libraries libcurl
** brings) take longer to load than a whole search takes to run, so the
** `cnsearch` program people type many times a day does not link them.
** The fetch command lives in a second build of the same command line,
** `cnsearch-fetch`, and this stub hands it the original arguments, as
** git hands transports to git-remote-http.  It is looked for beside
** this program, then in ../libexec/cnsearch/ (where `make install` puts
** it).
*/
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli/cli.h"

/* The folder this program runs from; caller frees. */
static char *own_dir(void) {
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return NULL;
  exe[n] = 0;
  char *slash = strrchr(exe, '/');
  if (slash) *slash = 0;
  return cns_xstrdup(exe);
}

int cli_fetch(const opts *o) {
  (void)o;
  char *dir = own_dir();
  if (!dir) {
    fprintf(stderr, "cnsearch: cannot find cnsearch-fetch: %s\n", strerror(errno));
    return EXIT_ERROR;
  }
  const char *where[] = {"%s/cnsearch-fetch", "%s/../libexec/cnsearch/cnsearch-fetch"};
  for (size_t i = 0; i < sizeof where / sizeof *where; i++) {
    char *path = cns_xasprintf(where[i], dir);
    if (access(path, X_OK) == 0) {
      cli_argv[0] = path;
      execv(path, cli_argv);
      fprintf(stderr, "cnsearch: cannot run '%s': %s\n", path, strerror(errno));
      free(path);
      free(dir);
      return EXIT_ERROR;
    }
    free(path);
  }
  fprintf(stderr, "cnsearch: 'fetch' needs the program cnsearch-fetch beside "
                  "'%s/cnsearch'; build it with 'make'\n", dir);
  free(dir);
  return EXIT_ERROR;
}
