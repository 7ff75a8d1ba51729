/*
** print.c -- what every output format shares, and the two smallest
** formats ("files" for -l and "count" for -c).
**
** The search hands hits to one printer (cnsint.h, "query/print.c"),
** chosen once by the CLI.  Printers are the only code that writes to
** their output stream, and they never write errors.  This file owns what
** the formats must agree on, so that a path or a title looks the same in
** all of them:
**
**   output     A printer writes to p->out: stdout, or (in a watcher that
**              answers a search for another process, cli/serve.c) a
**              memory stream.  Its begin calls print_open(), which gives
**              stdout a 64 KiB buffer the first time (so begin must come
**              before anything else is written to stdout).  Piped output
**              then costs a few write(2)s per thousand hits; on a
**              terminal each hit is flushed as it comes so results appear
**              while the search runs.
**   paths      print_path() turns a root-relative note path into what the
**              user can open from where they stand.  In line-oriented
**              output a path's control bytes are escaped (\n, \t, \r,
**              \xNN) so one hit stays one line; backslashes are left
**              alone so ordinary paths stay usable.  With NUL separators
**              the path is written raw: NUL is the one byte a path
**              cannot hold, so raw is both safe and exact.
**   text       Titles, headings and snippets go to terminals; their
**              control bytes become spaces, so a note cannot move the
**              cursor or change colours.
**   colours    SGR codes in ripgrep's palette: path magenta, line number
**              green, match bold red; headings bold cyan.
**   JSON       Strings valid whatever the input bytes: UTF-8 is checked
**              strictly (no overlongs, surrogates or code points above
**              U+10FFFF) and each byte that is not part of a well-formed
**              sequence becomes U+FFFD.  print_json_offset() maps a byte
**              offset in the raw text to the same place in the repaired
**              text, so match ranges stay right after a repair.
**
** "files" and "count" need a table of the paths seen so far in order of
** first appearance: an array of entries plus an open-addressing index.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cnsint.h"

const char print_sgr_path[] = "\033[1;35m";    /* human: group header */
const char print_sgr_line[] = "\033[32m";
const char print_sgr_heading[] = "\033[1;36m";
const char print_sgr_match[] = "\033[1;31m";
const char print_sgr_reset[] = "\033[0m";
static const char sgr_file[] = "\033[35m";      /* files and count */

/* ------------------------------------------------------------------ output */

static char out_buf[1 << 16];
static int out_ready, out_tty;
static FILE *out_file;  /* the stream print_open() named */

/* Write to f (NULL: stdout) from now on.  stdout gets its large buffer
** the first time: the C library allows setvbuf() only before a stream's
** first use.  A memory stream has no descriptor, so it is no terminal. */
void print_open(FILE *f) {
  out_file = f ? f : stdout;
  if (out_file == stdout && !out_ready) {
    out_ready = 1;
    setvbuf(stdout, out_buf, _IOFBF, sizeof out_buf);
  }
  int fd = fileno(out_file);
  out_tty = fd >= 0 && isatty(fd);
}

/* Write b out and empty it; flush only when a person is watching. */
void print_emit(buf *b) {
  if (!out_file) print_open(NULL);
  if (b->len) fwrite(b->p, 1, b->len, out_file);
  buf_reset(b);
  if (out_tty) fflush(out_file);
}

void print_flush(void) {
  fflush(out_file ? out_file : stdout);
}

/* ------------------------------------------------------------------- paths */

/* The part of path below dir (both absolute), or NULL when path is not
** strictly below dir.  "/a/bc" is not below "/a/b". */
static const char *below(const char *path, const char *dir) {
  if (!dir || dir[0] != '/') return NULL;
  size_t n = strlen(dir);
  while (n > 1 && dir[n - 1] == '/') n--;
  if (n == 1) n = 0;                 /* cwd "/": everything is below it */
  if (strncmp(path, dir, n) != 0 || path[n] != '/' || !path[n + 1])
    return NULL;
  return path + n + 1;
}

char *print_path(const printer *p, const char *relpath) {
  if (!relpath) relpath = "";
  if (!p->root || !*p->root) return cns_xstrdup(relpath);
  buf b = BUF_INIT;
  buf_adds(&b, p->root);
  if (b.p[b.len - 1] != '/') buf_addc(&b, '/');
  buf_adds(&b, relpath);
  const char *rel = p->absolute ? NULL : below(b.p, p->cwd);
  if (!rel) return buf_detach(&b);
  char *out = cns_xstrdup(rel);
  buf_free(&b);
  return out;
}

/* Append s with its control bytes escaped so it stays on one line. */
static void add_escaped(buf *b, const char *s) {
  for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
    if (*c == '\n') buf_adds(b, "\\n");
    else if (*c == '\t') buf_adds(b, "\\t");
    else if (*c == '\r') buf_adds(b, "\\r");
    else if (*c < 0x20 || *c == 0x7f) buf_addf(b, "\\x%02x", *c);
    else buf_addc(b, *c);
  }
}

/* Append the shown form of relpath: raw under null_sep, else escaped.
** The caller adds the separator. */
void print_add_path(buf *b, const printer *p, const char *relpath) {
  char *path = print_path(p, relpath);
  if (p->null_sep) buf_adds(b, path);
  else add_escaped(b, path);
  free(path);
}

/* Append s[0..n) with every control byte replaced by a space. */
void print_add_text(buf *b, const char *s, size_t n) {
  size_t start = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c != 0x7f) continue;
    buf_add(b, s + start, i - start);
    buf_addc(b, ' ');
    start = i + 1;
  }
  buf_add(b, s + start, n - start);
}

/* -------------------------------------------------------------------- JSON */

/* Length of the well-formed UTF-8 sequence at s[0..n), storing its code
** point in *cp, or 0 when s[0] does not begin one.  The byte ranges are
** Unicode's table 3-7, which leaves out overlongs, surrogates and code
** points above U+10FFFF. */
static size_t utf8_seq(const unsigned char *s, size_t n, uint32_t *cp) {
  unsigned c = s[0], lo = 0x80, hi = 0xBF;
  size_t len;
  uint32_t v;
  if (c < 0x80) { *cp = c; return 1; }
  if (c >= 0xC2 && c <= 0xDF) { len = 2; v = c & 0x1F; }
  else if (c >= 0xE0 && c <= 0xEF) {
    len = 3; v = c & 0x0F;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4; v = c & 0x07;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else return 0;
  if (n < len) return 0;
  for (size_t i = 1; i < len; i++) {
    if (s[i] < lo || s[i] > hi) return 0;
    lo = 0x80; hi = 0xBF;
    v = (v << 6) | (s[i] & 0x3F);
  }
  *cp = v;
  return len;
}

/* Append the JSON form of the character at s[0..n); returns the bytes
** consumed.  U+2028 and U+2029 are escaped for JavaScript's sake. */
static size_t json_char(buf *b, const unsigned char *s, size_t n) {
  uint32_t cp;
  size_t len = utf8_seq(s, n, &cp);
  if (len == 0) { buf_adds(b, "\\ufffd"); return 1; }
  if (cp == '"') buf_adds(b, "\\\"");
  else if (cp == '\\') buf_adds(b, "\\\\");
  else if (cp == '\n') buf_adds(b, "\\n");
  else if (cp == '\t') buf_adds(b, "\\t");
  else if (cp == '\r') buf_adds(b, "\\r");
  else if (cp < 0x20 || cp == 0x7f || cp == 0x2028 || cp == 0x2029)
    buf_addf(b, "\\u%04x", (unsigned)cp);
  else buf_add(b, s, len);
  return len;
}

/* Append s as a quoted JSON string; NULL is written as null. */
void print_add_json(buf *b, const char *s) {
  if (!s) { buf_adds(b, "null"); return; }
  const unsigned char *u = (const unsigned char *)s;
  size_t n = strlen(s);
  buf_addc(b, '"');
  for (size_t i = 0; i < n;) i += json_char(b, u + i, n - i);
  buf_addc(b, '"');
}

/* Where byte offset off of s lands in the UTF-8 text a JSON reader gets
** back from print_add_json(s): each invalid byte grew to U+FFFD's three
** bytes.  An off past the end is taken as the end. */
size_t print_json_offset(const char *s, size_t off) {
  const unsigned char *u = (const unsigned char *)s;
  size_t n = strlen(s), i = 0, out = 0;
  uint32_t cp;
  if (off > n) off = n;
  while (i < off) {
    size_t len = utf8_seq(u + i, n - i, &cp);
    out += len ? len : 3;
    i += len ? len : 1;
  }
  return out;
}

/* -------------------------------------------------------------- path table */

typedef struct pt_entry {
  char *path;          /* relative to the root, owned */
  long count;
} pt_entry;

typedef struct pathtab {
  pt_entry *v;         /* in order of first appearance */
  size_t n, cap;
  size_t *slot;        /* open addressing: index into v plus one; 0 empty */
  size_t nslot;        /* a power of two, at least twice n */
} pathtab;

static size_t *pt_find(const pathtab *t, const char *path) {
  size_t i = (size_t)cns_hash(path, strlen(path)) & (t->nslot - 1);
  while (t->slot[i] && strcmp(t->v[t->slot[i] - 1].path, path) != 0)
    i = (i + 1) & (t->nslot - 1);
  return &t->slot[i];
}

static void pt_grow(pathtab *t) {
  free(t->slot);
  t->nslot = t->nslot ? t->nslot * 2 : 64;
  t->slot = cns_xcalloc(t->nslot, sizeof *t->slot);
  for (size_t k = 0; k < t->n; k++) *pt_find(t, t->v[k].path) = k + 1;
}

/* The entry for path, added with count 0 (and *added set) if new. */
static pt_entry *pt_get(pathtab *t, const char *path, int *added) {
  if (2 * (t->n + 1) > t->nslot) pt_grow(t);
  size_t *s = pt_find(t, path);
  *added = !*s;
  if (*s) return &t->v[*s - 1];
  if (t->n == t->cap) {
    t->cap = t->cap ? 2 * t->cap : 64;
    t->v = cns_xrealloc(t->v, t->cap * sizeof *t->v);
  }
  t->v[t->n] = (pt_entry){cns_xstrdup(path), 0};
  *s = ++t->n;
  return &t->v[*s - 1];
}

static void pt_free(pathtab *t) {
  for (size_t k = 0; k < t->n; k++) free(t->v[k].path);
  free(t->v);
  free(t->slot);
}

/* --------------------------------------------------------- files and count */

typedef struct list_state {
  pathtab seen;
  buf out;
} list_state;

static void list_begin(printer *p) { print_open(p->out); }

static void list_end(printer *p) { print_flush(); }

static void list_free(printer *p) {
  if (!p) return;
  list_state *s = p->state;
  pt_free(&s->seen);
  buf_free(&s->out);
  free(s);
  free(p);
}

/* Append the path in the file listing colour when colour is on. */
static void add_list_path(buf *b, const printer *p, const char *relpath) {
  if (p->color) buf_adds(b, sgr_file);
  print_add_path(b, p, relpath);
  if (p->color) buf_adds(b, print_sgr_reset);
}

static void files_hit(printer *p, const cns_hit *h) {
  list_state *s = p->state;
  int added;
  pt_get(&s->seen, h->path ? h->path : "", &added);
  if (!added) return;
  add_list_path(&s->out, p, h->path);
  buf_addc(&s->out, p->null_sep ? 0 : '\n');
  print_emit(&s->out);
}

static void count_hit(printer *p, const cns_hit *h) {
  list_state *s = p->state;
  int added;
  pt_get(&s->seen, h->path ? h->path : "", &added)->count++;
}

/* ripgrep's shapes: "path:N\n", or "path\0N\n" under --null. */
static void count_end(printer *p) {
  list_state *s = p->state;
  for (size_t k = 0; k < s->seen.n; k++) {
    add_list_path(&s->out, p, s->seen.v[k].path);
    buf_addc(&s->out, p->null_sep ? 0 : ':');
    buf_addf(&s->out, "%ld\n", s->seen.v[k].count);
    if (s->out.len >= sizeof out_buf) print_emit(&s->out);
  }
  print_emit(&s->out);
  print_flush();
}

static printer *list_new(void (*hit)(printer *, const cns_hit *),
                         void (*end)(printer *)) {
  printer *p = cns_xcalloc(1, sizeof *p);
  p->begin = list_begin;
  p->hit = hit;
  p->end = end;
  p->free = list_free;
  p->state = cns_xcalloc(1, sizeof(list_state));
  return p;
}

printer *print_files_new(void) { return list_new(files_hit, list_end); }

printer *print_count_new(void) { return list_new(count_hit, count_end); }
