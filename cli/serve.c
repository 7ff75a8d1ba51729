/*
** serve.c -- a search answered by the running watcher, both sides.
**
** A search that finds `cnsearch watch` running for its index hands it
** the search (indexer/serve.c carries the bytes) instead of opening the
** index itself.  This file says what such a request holds and runs it.
**
** The request is what the search would need from its own process: the
** query, the output options (already checked, with --color's "auto"
** decided for the asker's stdout), the folder it stands in (for printed
** paths), the notes root it resolved (the watcher refuses a request
** for another root) and which program file it runs (a watcher left
** running by the program an upgrade replaced refuses the new program's
** requests).  It travels as NUL-terminated "key=value" strings; no value
** can hold a NUL, since each comes from argv or a path.
**
** The watcher runs the same cli_search_run() a search runs here, with a
** memory file for stdout and a memory stream for stderr, and sends both
** back; the asker writes them out.  Everything the asker would have read
** from its environment or its folder is decided before asking or sent
** along (NO_COLOR, the terminal, the folder, against which the notes
** named in links-to: and linked-from: are found too), so the answer is
** the one it would have printed itself.  A request the watcher cannot
** take -- for another root, from another program file, with a config
** changed since the watcher read it (indexer/watch.c) -- is declined,
** and the search runs in its own process.  A --no-update search is run
** as on a read-only handle, so it never writes (the regex index is not
** built for it), as it would not in its own process.
*/
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli/cli.h"

/* ---------------------------------------------------------- the request */

static void put(buf *b, const char *key, const char *val) {
  buf_adds(b, key);
  buf_addc(b, '=');
  buf_adds(b, val ? val : "");
  buf_addc(b, 0);
}

static void put_long(buf *b, const char *key, long v) {
  char n[32];
  snprintf(n, sizeof n, "%ld", v);
  put(b, key, n);
}

/* The flags, one letter each when set. */
static void put_flags(buf *b, const opts *o) {
  char f[16], *p = f;
  if (o->files) *p++ = 'l';
  if (o->count) *p++ = 'c';
  if (o->vimgrep) *p++ = 'v';
  if (o->json) *p++ = 'j';
  if (o->null_sep) *p++ = '0';
  if (o->absolute) *p++ = 'a';
  if (o->explain) *p++ = 'x';
  if (o->no_linked) *p++ = 'n';
  if (o->no_update) *p++ = 'u';
  *p = 0;
  put(b, "flags", f);
}

/* The program file this process runs, as "device:inode:mtime". */
static void program_id(char *id, size_t cap) {
  struct stat sb;
  if (stat("/proc/self/exe", &sb) != 0) memset(&sb, 0, sizeof sb);
  snprintf(id, cap, "%llu:%llu:%lld.%09ld", (unsigned long long)sb.st_dev,
           (unsigned long long)sb.st_ino, (long long)sb.st_mtim.tv_sec,
           (long)sb.st_mtim.tv_nsec);
}

static void encode(buf *b, const opts *o, const char *query,
                   const char *root, const char *cwd) {
  char id[96];
  program_id(id, sizeof id);
  put(b, "program", id);
  put(b, "query", query);
  put(b, "root", root);
  put(b, "cwd", cwd);
  put(b, "color", cli_search_color(o));
  put(b, "sort", o->sort ? o->sort : "rank");
  put_long(b, "limit", o->limit);
  put_flags(b, o);
}

/* What a request holds; its strings point into the request. */
typedef struct request {
  opts o;
  const char *query, *root, *cwd, *program;
} request;

static void take_flags(opts *o, const char *f) {
  o->files = strchr(f, 'l') != NULL;
  o->count = strchr(f, 'c') != NULL;
  o->vimgrep = strchr(f, 'v') != NULL;
  o->json = strchr(f, 'j') != NULL;
  o->null_sep = strchr(f, '0') != NULL;
  o->absolute = strchr(f, 'a') != NULL;
  o->explain = strchr(f, 'x') != NULL;
  o->no_linked = strchr(f, 'n') != NULL;
  o->no_update = strchr(f, 'u') != NULL;
}

/* One "key=value" into r; 0 for a key we do not know. */
static int take(request *r, const char *kv) {
  const char *v = strchr(kv, '=');
  if (!v) return 0;
  size_t k = (size_t)(v++ - kv);
  char *end;
  if (k == 5 && memcmp(kv, "query", 5) == 0) r->query = v;
  else if (k == 4 && memcmp(kv, "root", 4) == 0) r->root = v;
  else if (k == 3 && memcmp(kv, "cwd", 3) == 0) r->cwd = v;
  else if (k == 7 && memcmp(kv, "program", 7) == 0) r->program = v;
  else if (k == 5 && memcmp(kv, "color", 5) == 0) r->o.color = v;
  else if (k == 4 && memcmp(kv, "sort", 4) == 0) r->o.sort = v;
  else if (k == 5 && memcmp(kv, "flags", 5) == 0) take_flags(&r->o, v);
  else if (k == 5 && memcmp(kv, "limit", 5) == 0) {
    r->o.limit = strtol(v, &end, 10);
    return *v && !*end;
  } else return 0;
  return 1;
}

/* Parse req[0..len) (NUL-terminated strings); 0 if it is malformed. */
static int decode(const char *req, size_t len, request *r) {
  memset(r, 0, sizeof *r);
  r->o.limit = -1;
  if (!len || req[len - 1] != 0) return 0;
  for (const char *p = req; p < req + len; p += strlen(p) + 1)
    if (!take(r, p)) return 0;
  return r->query && r->root && r->cwd && r->program && r->o.color &&
         r->o.sort;
}

/* ------------------------------------------------------- the watcher's side */

/* Is the request one this watcher may answer: well formed, for its notes
** root, from the same program file, with options that hold?  Our own
** program file is looked at once: the file we run cannot change under
** us (a new one is a new inode, which /proc/self/exe does not follow). */
static int acceptable(const request *r, const cns *h) {
  static char id[96];
  char msg[256];
  if (!id[0]) program_id(id, sizeof id);
  return strcmp(r->root, h->root) == 0 && strcmp(r->program, id) == 0 &&
         !cli_search_check(&r->o, msg, sizeof msg);
}

int cli_serve(void *arg, cns *h, const char *req, size_t len, FILE *out,
              buf *err) {
  request r;
  char *ep = NULL;
  size_t en = 0;
  if (!decode(req, len, &r) || !acceptable(&r, h)) return -1;
  FILE *fe = open_memstream(&ep, &en);
  if (!fe) return -1;
  int flags = h->flags;
  search_io io = {r.cwd, out, fe};
  if (r.o.no_update) /* as its own read-only handle would: no writes */
    h->flags = (h->flags & ~CNS_OPEN_CREATE) | CNS_OPEN_READONLY;
  int code = cli_search_run(&r.o, h, r.query, &io);
  h->flags = flags;
  print_open(NULL); /* the printers no longer point at out */
  if (fclose(fe) != 0) code = -1;
  else if (en) buf_add(err, ep, en);
  free(ep);
  return code;
}

/* ------------------------------------------------------- the asker's side */

/* Copy the memory file fd to stdout.  A closed pipe ends us with
** SIGPIPE, as it would a search that printed itself. */
static void copy_out(int fd) {
  char b[65536];
  off_t off = 0;
  ssize_t n;
  while ((n = pread(fd, b, sizeof b, off)) > 0 ||
         (n < 0 && errno == EINTR)) {
    for (ssize_t done = 0, w; n > 0 && done < n; done += w)
      if ((w = write(1, b + done, (size_t)(n - done))) < 0) {
        if (errno != EINTR) return;
        w = 0;
      }
    if (n > 0) off += n;
  }
}

/* Ask the watcher; the exit code, or -1 when it did not answer. */
static int ask(const opts *o, const char *query, const char *root,
               const char *index) {
  char real[PATH_MAX], cwd[PATH_MAX];
  if (!realpath(root, real) || !getcwd(cwd, sizeof cwd)) return -1;
  buf req = BUF_INIT, err = BUF_INIT;
  encode(&req, o, query, real, cwd);
  int code = -1, fd = -1;
  int got = cns_serve_ask(index, !o->no_update, req.p, req.len, &cli_signal,
                          &code, &fd, &err);
  if (got > 0) {
    if (err.len) fwrite(err.p, 1, err.len, stderr);
    fflush(stderr);
    if (fd >= 0) copy_out(fd);
  } else if (got < 0) {
    fprintf(stderr, "cnsearch: interrupted\n");
    code = 128 + cli_signal;
  }
  if (fd >= 0) close(fd);
  buf_free(&req);
  buf_free(&err);
  return code;
}

int cli_serve_ask(const opts *o, const char *query) {
  char *root = cli_notes_root(o), *index = cli_index_file(o, root);
  int code = ask(o, query, root, index);
  free(root);
  free(index);
  return code;
}
