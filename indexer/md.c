/*
** md.c -- one markdown note to the structure the index keeps: title,
** date, tags, sections (the source under each heading, with its heading
** path) and links.  Pure: text in, an md_note out; no I/O, no SQL.
**
** Data flow.  A UTF-8 BOM and a front matter block ("---" ... "---" or
** "...") are peeled off by hand; the few keys we want (title, date, tags)
** are read from it with a tiny line parser, not a YAML library.  Only the
** body after it goes to md4c, which calls back with blocks, spans and
** text.  md4c gives no offsets, but its text pointers point into the
** buffer we passed, so every position here is "the first in-buffer text
** pointer seen inside X", moved back to X's first byte: for a heading,
** the start of its line; for a link, its opener ('[', "![", "[[", '<' or
** the bare URL itself).  Text pointers that lie outside the note (md4c's
** static "\n" for soft breaks, "" for NUL) are never used as positions.
**
** Invariants.  sections[] is never empty, starts at offset 0, is in
** order and contiguous, and its lengths add up to the note's length;
** only top-level headings (not in a quote or a list item) with some
** in-buffer text start one.  Every string in the result is owned by the
** md_note and freed by md_note_free(); url and text are never NULL.
**
** Hostile input.  Work per byte is bounded: line numbers come from a
** checkpoint every LM_STEP bytes (or a forward cursor), scans for link
** openers stop after SCAN_MAX bytes, only LINK_DEPTH nested link spans
** are recorded, a heading contributes at most HEAD_MAX bytes to the paths
** below it and at most MAX_SECTIONS sections are made (later headings
** stay inside the last one), so nothing grows quadratically.
**
** md4c itself is not trusted to stay inside its input: Debian 12's md4c
** 0.4.8 reads the byte just past the end in places (a note ending in
** "[x](" makes it look for the ')' at text[len]) and, should that byte be
** a ')', reports text beyond the end.  Upstream fixed these after 0.4.8.
** So md4c parses a private copy followed by MD_PAD NUL bytes, and any text
** it reports that runs into the padding is cut at the note's end.
**
** Text choices.  Plain text (headings, anchor text, url, title) decodes
** numeric entities (a control character as a space) and &amp; &lt; &gt;
** &quot; &apos; &nbsp; (as a space); other named entities are kept as
** written.  Code span text is included, inline HTML is left out, soft
** and hard breaks (and any line end md4c leaves inside text) become a
** space, NUL becomes U+FFFD.
*/
#include <limits.h>
#include <md4c.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "cnsint.h"

#define LM_STEP 1024       /* bytes between line-map checkpoints */
#define LINK_DEPTH 16      /* nested link spans recorded */
#define HEAD_MAX 256       /* bytes of one heading kept in heading paths */
#define MAX_SECTIONS 20000 /* later headings do not start sections */
#define SCAN_MAX 1024      /* bytes searched for a link's opener */
#define PATH_SEP " \xE2\x80\xBA " /* " › " */
#define MD_PAD 64          /* NUL bytes after md4c's copy of the note */

/* ------------------------------------------------------------ line map
** A line ends at '\n', or at a '\r' not followed by '\n'.  A checkpoint
** every LM_STEP bytes holds the line number and line start in force
** before that byte, so any lookup scans at most LM_STEP bytes; a cursor
** moving forward scans each byte once. */
typedef struct lcur {
  size_t off;   /* the position described */
  long line;    /* its 1-based line */
  size_t ls;    /* where that line starts */
} lcur;

typedef struct linemap {
  const char *t;
  size_t len;
  lcur *cp;     /* cp[i] describes byte i * LM_STEP */
} linemap;

static int is_eol(const char *t, size_t len, size_t i) {
  return t[i] == '\n' || (t[i] == '\r' && (i + 1 >= len || t[i + 1] != '\n'));
}

static void lm_build(linemap *lm, const char *t, size_t len) {
  lcur c = {0, 1, 0};
  lm->t = t;
  lm->len = len;
  lm->cp = cns_xmalloc((len / LM_STEP + 1) * sizeof *lm->cp);
  for (; c.off < len; c.off++) {
    if (c.off % LM_STEP == 0) lm->cp[c.off / LM_STEP] = c;
    if (is_eol(t, len, c.off)) {
      c.line++;
      c.ls = c.off + 1;
    }
  }
  if (len % LM_STEP == 0) lm->cp[len / LM_STEP] = c;
}

/* Move *c to off (<= len): forward from where it is, else from the
** checkpoint at or before off, whichever is nearer. */
static void lm_seek(const linemap *lm, lcur *c, size_t off) {
  size_t at = off / LM_STEP * LM_STEP;
  if (off < c->off || at > c->off) *c = lm->cp[off / LM_STEP];
  for (; c->off < off; c->off++)
    if (is_eol(lm->t, lm->len, c->off)) {
      c->line++;
      c->ls = c->off + 1;
    }
}

/* ------------------------------------------------------------ plain text */

static int is_alpha(int c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(int c) { return c >= '0' && c <= '9'; }

static void add_utf8(buf *b, unsigned long c) {
  if ((c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF || c == 0) c = 0xFFFD;
  if (c < 0x80) {
    buf_addc(b, (int)c);
  } else if (c < 0x800) {
    buf_addc(b, (int)(0xC0 | (c >> 6)));
    buf_addc(b, (int)(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    buf_addc(b, (int)(0xE0 | (c >> 12)));
    buf_addc(b, (int)(0x80 | ((c >> 6) & 0x3F)));
    buf_addc(b, (int)(0x80 | (c & 0x3F)));
  } else {
    buf_addc(b, (int)(0xF0 | (c >> 18)));
    buf_addc(b, (int)(0x80 | ((c >> 12) & 0x3F)));
    buf_addc(b, (int)(0x80 | ((c >> 6) & 0x3F)));
    buf_addc(b, (int)(0x80 | (c & 0x3F)));
  }
}

/* Decode the entity s[0..n) ("&...;"): numeric ones and a handful of
** named ones; any other is appended as written. */
static void add_entity(buf *b, const char *s, size_t n) {
  static const struct { const char *name, *text; } named[] = {
    {"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""},
    {"&apos;", "'"}, {"&nbsp;", " "},
  };
  if (n >= 4 && s[1] == '#') {
    int hex = s[2] == 'x' || s[2] == 'X';
    unsigned long c = 0;
    for (size_t i = hex ? 3 : 2; i + 1 < n; i++) {
      int d = is_digit(s[i]) ? s[i] - '0'
              : hex ? ((s[i] | 0x20) - 'a' + 10) : 0;
      if (c <= 0x10FFFF) c = c * (hex ? 16 : 10) + (unsigned long)d;
    }
    if ((c > 0 && c < 0x20) || c == 0x7f) c = ' '; /* "&#10;" is no line end */
    add_utf8(b, c);
    return;
  }
  for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
    if (strlen(named[i].name) == n && memcmp(named[i].name, s, n) == 0) {
      buf_adds(b, named[i].text);
      return;
    }
  buf_add(b, s, n);
}

static void add_plain(buf *b, MD_TEXTTYPE type, const char *s, size_t n) {
  switch (type) {
  case MD_TEXT_NULLCHAR: buf_adds(b, "\xEF\xBF\xBD"); break;
  case MD_TEXT_BR:
  case MD_TEXT_SOFTBR: buf_addc(b, ' '); break;
  case MD_TEXT_ENTITY: add_entity(b, s, n); break;
  case MD_TEXT_HTML: break;
  default: /* md4c can hand over a line end inside text (autolinks) */
    for (size_t i = 0; i < n; i++)
      buf_addc(b, s[i] == '\n' || s[i] == '\r' ? ' ' : s[i]);
    break;
  }
}

/* An md4c attribute as one decoded string; caller frees with free(). */
static char *attr_str(const MD_ATTRIBUTE *a) {
  buf b = BUF_INIT;
  if (a->text && a->size)
    for (size_t i = 0; a->substr_offsets[i] < a->size; i++) {
      MD_OFFSET o = a->substr_offsets[i], e = a->substr_offsets[i + 1];
      add_plain(&b, a->substr_types[i], a->text + o, e - o);
    }
  return buf_detach(&b);
}

/* s[0..n) without surrounding white space, at most max bytes, not cut
** inside a UTF-8 sequence; caller frees with free(). */
static char *trimmed(const char *s, size_t n, size_t max) {
  while (n && cns_ascii_space((unsigned char)*s)) s++, n--;
  while (n && cns_ascii_space((unsigned char)s[n - 1])) n--;
  if (n > max) {
    n = max;
    while (n && ((unsigned char)s[n] & 0xC0) == 0x80) n--;
  }
  return cns_xstrndup(s, n);
}

/* ------------------------------------------------------------ tags */
typedef struct tagv {
  char **v;
  size_t n, cap;
} tagv;

/* Add one tag: leading '#' and quotes dropped, ASCII lower-cased, inner
** white space turned into '-' so the space-separated list stays sound. */
static void tag_add(tagv *tv, const char *s, size_t n) {
  while (n && cns_ascii_space((unsigned char)*s)) s++, n--;
  while (n && cns_ascii_space((unsigned char)s[n - 1])) n--;
  if (n >= 2 && (s[0] == '"' || s[0] == '\'') && s[n - 1] == s[0]) s++, n -= 2;
  while (n && *s == '#') s++, n--;
  char *t = cns_xstrndup(s, n);
  for (char *p = t; *p; p++)
    *p = cns_ascii_space((unsigned char)*p) ? '-'
         : (*p >= 'A' && *p <= 'Z') ? (char)(*p + 32) : *p;
  if (!*t) {
    free(t);
    return;
  }
  if (tv->n == tv->cap) {
    tv->cap = tv->cap ? tv->cap * 2 : 8;
    tv->v = cns_xrealloc(tv->v, tv->cap * sizeof *tv->v);
  }
  tv->v[tv->n++] = t;
}

typedef struct tagref {
  const char *s;
  size_t i;
} tagref;

static int tagref_cmp(const void *a, const void *b) {
  const tagref *x = a, *y = b;
  int c = strcmp(x->s, y->s);
  return c ? c : (x->i > y->i) - (x->i < y->i);
}

/* The tags, each once, in order of first appearance, space-separated;
** NULL when there are none.  Sorting finds duplicates in n log n. */
static char *tag_join(const tagv *tv) {
  if (!tv->n) return NULL;
  tagref *r = cns_xmalloc(tv->n * sizeof *r);
  char *keep = cns_xcalloc(tv->n, 1);
  for (size_t i = 0; i < tv->n; i++) r[i] = (tagref){tv->v[i], i};
  qsort(r, tv->n, sizeof *r, tagref_cmp);
  for (size_t i = 0; i < tv->n; i++)
    keep[r[i].i] = i == 0 || strcmp(r[i].s, r[i - 1].s) != 0;
  buf b = BUF_INIT;
  for (size_t i = 0; i < tv->n; i++) {
    if (!keep[i]) continue;
    if (b.len) buf_addc(&b, ' ');
    buf_adds(&b, tv->v[i]);
  }
  free(r);
  free(keep);
  return buf_detach(&b);
}

static void tag_free(tagv *tv) {
  for (size_t i = 0; i < tv->n; i++) free(tv->v[i]);
  free(tv->v);
}

/* ------------------------------------------------------------ front matter */

/* The line starting at pos: *le is where its content ends, the return
** value where the next line starts. */
static size_t next_line(const char *t, size_t pos, size_t end, size_t *le) {
  size_t i = pos;
  while (i < end && t[i] != '\n' && t[i] != '\r') i++;
  *le = i;
  if (i < end && t[i] == '\r') i++;
  if (i < end && t[i] == '\n') i++;
  return i;
}

/* Is t[s..e) exactly "---" (or "...", when dots), trailing blanks aside? */
static int fence_line(const char *t, size_t s, size_t e, int dots) {
  while (e > s && (t[e - 1] == ' ' || t[e - 1] == '\t')) e--;
  if (e - s != 3) return 0;
  return memcmp(t + s, "---", 3) == 0 || (dots && memcmp(t + s, "...", 3) == 0);
}

/* A scalar value as written: quotes stripped, or for a bare value a
** " #comment" dropped; caller frees with free(). */
static char *fm_scalar(const char *s, size_t n) {
  if (n && (s[0] == '"' || s[0] == '\'')) {
    const char *q = memchr(s + 1, s[0], n - 1);
    size_t m = q ? (size_t)(q - s - 1) : n - 1;
    return trimmed(s + 1, m, SIZE_MAX);
  }
  for (size_t i = 1; i < n; i++)
    if (s[i] == '#' && (s[i - 1] == ' ' || s[i - 1] == '\t')) n = i;
  return trimmed(s, n, SIZE_MAX);
}

/* tags: "[a, b]", "a, b" or "a b" (a quoted item may hold spaces). */
static void fm_tags(tagv *tv, const char *s, size_t n) {
  int comma = n && s[0] == '[';
  if (comma) {
    s++, n--;
    if (n && s[n - 1] == ']') n--;
  }
  comma = comma || memchr(s, ',', n) != NULL;
  size_t i = 0;
  while (i < n) {
    while (i < n && (cns_ascii_space((unsigned char)s[i]) || s[i] == ',')) i++;
    if (i == n) break;
    size_t j = i + 1;
    if (s[i] == '"' || s[i] == '\'') {
      while (j < n && s[j] != s[i]) j++;
      if (j < n) j++;
    } else {
      while (j < n && s[j] != ',' && (comma || !cns_ascii_space((unsigned char)s[j])))
        j++;
    }
    tag_add(tv, s + i, j - i);
    i = j;
  }
}

static int key_is(const char *s, size_t n, const char *key) {
  return strlen(key) == n && strncasecmp(s, key, n) == 0;
}

/* Read title, date and tags from the front matter lines t[s..e). */
static void fm_parse(const char *t, size_t s, size_t e, md_note *out,
                     tagv *tags) {
  int in_list = 0;
  size_t le;
  for (size_t ls = s, next; ls < e; ls = next) {
    next = next_line(t, ls, e, &le);
    size_t i = ls;
    while (i < le && (t[i] == ' ' || t[i] == '\t')) i++;
    if (in_list) {
      if (i < le && t[i] == '-' && (i + 1 == le || t[i + 1] == ' ' ||
                                    t[i + 1] == '\t')) {
        char *v = fm_scalar(t + i + 1, le - i - 1);
        tag_add(tags, v, strlen(v));
        free(v);
        continue;
      }
      if (i == le) continue;
      in_list = 0;
    }
    if (i != ls || ls == le || t[ls] == '#') continue;
    const char *colon = memchr(t + ls, ':', le - ls);
    if (!colon) continue;
    size_t k = (size_t)(colon - t), ke = k;
    while (ke > ls && (t[ke - 1] == ' ' || t[ke - 1] == '\t')) ke--;
    size_t vs = k + 1;
    while (vs < le && (t[vs] == ' ' || t[vs] == '\t')) vs++;
    char *v = fm_scalar(t + vs, le - vs);
    if (key_is(t + ls, ke - ls, "title") && *v && !out->title) {
      out->title = v;
    } else if (key_is(t + ls, ke - ls, "date") && *v && !out->date) {
      out->date = v;
    } else {
      if (key_is(t + ls, ke - ls, "tags")) {
        if (vs == le) in_list = 1;
        else fm_tags(tags, t + vs, le - vs);
      }
      free(v);
    }
  }
}

/* Skip a BOM and a front matter block; returns the body's offset. */
static size_t front_matter(const char *t, size_t len, md_note *out,
                           tagv *tags) {
  size_t p = len >= 3 && memcmp(t, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
  size_t le, ls = next_line(t, p, len, &le);
  if (!fence_line(t, p, le, 0) || ls == le) return p;
  for (size_t s = ls, next; s < len; s = next) {
    next = next_line(t, s, len, &le);
    if (fence_line(t, s, le, 1)) {
      fm_parse(t, ls, s, out, tags);
      return next;
    }
  }
  return p;
}

/* ------------------------------------------------------------ parse state */
typedef struct olink {
  size_t idx;         /* into out->links */
  size_t tstart;      /* where its anchor text starts in ltext */
  const char *anchor; /* its href/src/target when that lies in the note */
  int placed;         /* off is known */
} olink;

typedef struct pstate {
  const char *t;
  size_t len, body;   /* the note; where md4c's input starts */
  md_note *out;
  linemap lm;
  lcur hcur;          /* cursor for heading lines */
  size_t seccap, linkcap;
  size_t nest;        /* open quotes and list items */
  int hlevel;         /* inside a heading of this level; 0 outside */
  int htop;           /* that heading is a top-level block */
  int hfound;         /* hoff is known */
  size_t hoff;        /* first in-note text of the heading */
  buf htext;
  char *path[6];      /* heading path by level (each at most HEAD_MAX) */
  olink open[LINK_DEPTH];
  int nopen;
  size_t overflow;    /* link spans open beyond LINK_DEPTH */
  buf ltext;          /* text seen while any link is open */
  size_t last_end;    /* end of the last in-note text */
  tagv tags;
} pstate;

/* The offset of p[0..n) in the note body, or SIZE_MAX when md4c handed
** over text that is not in the note (static strings). */
static size_t note_off(const pstate *st, const char *p, size_t n) {
  uintptr_t a = (uintptr_t)p, lo = (uintptr_t)(st->t + st->body),
            hi = (uintptr_t)(st->t + st->len);
  if (!p || n == 0 || a < lo || a >= hi || n > hi - a) return SIZE_MAX;
  return (size_t)(a - (uintptr_t)st->t);
}

/* ------------------------------------------------------------ sections */
static char *path_join(const pstate *st, int level) {
  buf b = BUF_INIT;
  for (int i = 0; i < level; i++) {
    if (!st->path[i] || !*st->path[i]) continue;
    if (b.len) buf_adds(&b, PATH_SEP);
    buf_adds(&b, st->path[i]);
  }
  return buf_detach(&b);
}

static void add_section(pstate *st, size_t textoff, int level) {
  md_note *out = st->out;
  lm_seek(&st->lm, &st->hcur, textoff);
  size_t off = st->hcur.ls < st->body ? st->body : st->hcur.ls;
  md_section *last = &out->sections[out->nsections - 1];
  if (off <= last->off) {
    if (out->nsections != 1 || off != 0) return;
    free(last->heading);           /* the note opens with this heading */
    last->level = level;
    last->heading = path_join(st, level);
    return;
  }
  if (out->nsections >= MAX_SECTIONS) return;
  if (out->nsections == st->seccap) {
    st->seccap *= 2;
    out->sections = cns_xrealloc(out->sections,
                                 st->seccap * sizeof *out->sections);
  }
  lcur c = st->hcur;
  lm_seek(&st->lm, &c, off);
  out->sections[out->nsections++] =
      (md_section){off, 0, c.line, level, path_join(st, level)};
}

static void heading_done(pstate *st) {
  int level = st->hlevel;
  if (!st->htop || !st->hfound) return;
  char *text = trimmed(buf_str(&st->htext), st->htext.len, SIZE_MAX);
  if (level == 1 && !st->out->title && *text)
    st->out->title = cns_xstrdup(text);
  for (int i = level - 1; i < 6; i++) {
    free(st->path[i]);
    st->path[i] = NULL;
  }
  st->path[level - 1] = trimmed(text, strlen(text), HEAD_MAX);
  free(text);
  add_section(st, st->hoff, level);
}

/* ------------------------------------------------------------ links
** An open link's first byte is found when the first in-note text inside
** it arrives (or, for a link with no text, when it closes): the innermost
** from that text, each enclosing one from the opener of the one inside. */

/* Where the link o starts, given pos: the first text inside it (inner)
** or the first byte of the link nested in it. */
static size_t opener(const pstate *st, const olink *o, size_t pos, int inner) {
  const char *t = st->t;
  size_t lo = st->body;
  int kind = st->out->links[o->idx].kind;
  if (pos < lo) return lo;
  if (kind == MD_LINK_WIKI && o->anchor) {
    size_t a = (size_t)(o->anchor - t);
    if (a >= lo + 2 && t[a - 1] == '[' && t[a - 2] == '[') return a - 2;
  }
  if (kind == MD_LINK_INLINE && inner && o->anchor == t + pos)
    return pos > lo && t[pos - 1] == '<' ? pos - 1 : pos; /* <url>, bare */
  size_t q = pos, stop = pos - (pos - lo < SCAN_MAX ? pos - lo : SCAN_MAX);
  while (q > stop && t[q - 1] && strchr(" \t*_~`$\\", t[q - 1])) q--;
  if (q > lo && t[q - 1] == '[') {
    q--;
    if (kind == MD_LINK_INLINE) return q;
    if (q > lo && t[q - 1] == (kind == MD_LINK_IMAGE ? '!' : '[')) return q - 1;
    return pos;
  }
  if (kind == MD_LINK_INLINE && inner && pos > lo && t[pos - 1] == '<')
    return pos - 1;                                      /* <a@b.org> */
  return pos;
}

/* Where a link with no text inside starts: "[](url)" found from the url,
** else the opener searched for after the last text, else that text. */
static size_t textless(const pstate *st, const olink *o) {
  const char *t = st->t;
  size_t lo = st->body;
  int kind = st->out->links[o->idx].kind;
  if (o->anchor && kind == MD_LINK_WIKI) {
    size_t a = (size_t)(o->anchor - t);
    if (a >= lo + 2 && t[a - 1] == '[' && t[a - 2] == '[') return a - 2;
  } else if (o->anchor) {
    size_t q = (size_t)(o->anchor - t);
    if (q > lo && t[q - 1] == '<') q--;
    while (q > lo && (t[q - 1] == ' ' || t[q - 1] == '\t')) q--;
    if (q >= lo + 3 && memcmp(t + q - 3, "[](", 3) == 0) {
      q -= 3;
      if (kind == MD_LINK_INLINE) return q;
      if (q > lo && t[q - 1] == '!') return q - 1;
    }
  }
  const char *mark = kind == MD_LINK_IMAGE  ? "!["
                     : kind == MD_LINK_WIKI ? "[["
                                            : "[";
  size_t from = st->last_end < lo ? lo : st->last_end;
  size_t n = st->len - from < SCAN_MAX ? st->len - from : SCAN_MAX;
  const char *hit = memmem(t + from, n, mark, strlen(mark));
  if (hit) return (size_t)(hit - t);
  return from < st->len ? from : st->len - 1;
}

/* open[i] starts at pos; the enclosing links still unplaced follow. */
static void place(pstate *st, int i, size_t pos) {
  for (;;) {
    st->out->links[st->open[i].idx].off = pos;
    st->open[i].placed = 1;
    if (--i < 0 || st->open[i].placed) return;
    pos = opener(st, &st->open[i], pos, 0);
  }
}

static void link_enter(pstate *st, int kind, const MD_ATTRIBUTE *url,
                       const MD_ATTRIBUTE *title) {
  md_note *out = st->out;
  if (st->nopen == LINK_DEPTH) {
    st->overflow++;
    return;
  }
  if (out->nlinks == st->linkcap) {
    st->linkcap = st->linkcap ? st->linkcap * 2 : 16;
    out->links = cns_xrealloc(out->links, st->linkcap * sizeof *out->links);
  }
  md_link *l = &out->links[out->nlinks];
  memset(l, 0, sizeof *l);
  l->kind = kind;
  l->url = attr_str(url);
  l->title = title && title->size ? attr_str(title) : NULL;
  olink *o = &st->open[st->nopen++];
  o->idx = out->nlinks++;
  o->tstart = st->ltext.len;
  o->anchor = note_off(st, url->text, url->size) == SIZE_MAX ? NULL : url->text;
  o->placed = 0;
}

static void link_leave(pstate *st) {
  if (st->overflow) {
    st->overflow--;
    return;
  }
  if (!st->nopen) return;
  olink *o = &st->open[st->nopen - 1];
  if (!o->placed) place(st, st->nopen - 1, textless(st, o));
  st->out->links[o->idx].text =
      trimmed(buf_str(&st->ltext) + o->tstart, st->ltext.len - o->tstart,
              SIZE_MAX);
  if (--st->nopen == 0) buf_reset(&st->ltext);
}

/* ------------------------------------------------------------ #tags */
static int tag_byte(int c) {
  return is_alpha(c) || is_digit(c) || c == '-' || c == '_' || c == '/' ||
         c >= 0x80;
}

/* '#' opens a tag after white space, the start of the body or an opening
** bracket, quote or emphasis mark; never after a word or '/' (URLs). */
static int tag_boundary(int c) {
  return cns_ascii_space(c) || (c && strchr("([{\"'*_~", c));
}

/* Find #tags in normal text s[0..n), found at note offset off (SIZE_MAX:
** not in the note, then its start counts as a word start). */
static void hashtags(pstate *st, const char *s, size_t n, size_t off) {
  const char *end = s + n, *h = s;
  while ((h = memchr(h, '#', (size_t)(end - h))) != NULL) {
    int prev = h > s ? (unsigned char)h[-1]
               : off == SIZE_MAX || off == st->body ? ' '
               : (unsigned char)st->t[off - 1];
    const char *e = h + 1;
    if (!tag_boundary(prev) || e == end || !(is_alpha((unsigned char)*e) ||
                                             (unsigned char)*e >= 0x80)) {
      h = e;
      continue;
    }
    while (e < end && tag_byte((unsigned char)*e)) e++;
    const char *k = e;
    while (k > h + 1 && k[-1] == '/') k--;
    tag_add(&st->tags, h + 1, (size_t)(k - h - 1));
    h = e;
  }
}

/* ------------------------------------------------------------ callbacks */
static int enter_block(MD_BLOCKTYPE type, void *detail, void *ud) {
  pstate *st = ud;
  if (type == MD_BLOCK_QUOTE || type == MD_BLOCK_LI) {
    st->nest++;
  } else if (type == MD_BLOCK_H) {
    unsigned level = ((MD_BLOCK_H_DETAIL *)detail)->level;
    st->hlevel = level < 1 ? 1 : level > 6 ? 6 : (int)level;
    st->htop = st->nest == 0;
    st->hfound = 0;
    buf_reset(&st->htext);
  }
  return 0;
}

static int leave_block(MD_BLOCKTYPE type, void *detail, void *ud) {
  pstate *st = ud;
  if (type == MD_BLOCK_QUOTE || type == MD_BLOCK_LI) {
    if (st->nest) st->nest--;
  } else if (type == MD_BLOCK_H) {
    heading_done(st);
    st->hlevel = 0;
  }
  return 0;
}

static int enter_span(MD_SPANTYPE type, void *detail, void *ud) {
  pstate *st = ud;
  if (type == MD_SPAN_A) {
    MD_SPAN_A_DETAIL *d = detail;
    link_enter(st, MD_LINK_INLINE, &d->href, &d->title);
  } else if (type == MD_SPAN_IMG) {
    MD_SPAN_IMG_DETAIL *d = detail;
    link_enter(st, MD_LINK_IMAGE, &d->src, &d->title);
  } else if (type == MD_SPAN_WIKILINK) {
    MD_SPAN_WIKILINK_DETAIL *d = detail;
    link_enter(st, MD_LINK_WIKI, &d->target, NULL);
  }
  return 0;
}

static int leave_span(MD_SPANTYPE type, void *detail, void *ud) {
  if (type == MD_SPAN_A || type == MD_SPAN_IMG || type == MD_SPAN_WIKILINK)
    link_leave(ud);
  return 0;
}

static int on_text(MD_TEXTTYPE type, const MD_CHAR *s, MD_SIZE n, void *ud) {
  pstate *st = ud;
  uintptr_t a = (uintptr_t)s, end = (uintptr_t)(st->t + st->len);
  if (a >= (uintptr_t)st->t && a < end + MD_PAD) { /* see MD_PAD */
    if (a >= end) return 0;
    if (n > end - a) n = (MD_SIZE)(end - a);
  }
  size_t off = note_off(st, s, n);
  if (off != SIZE_MAX) {
    int top = st->nopen - 1;
    if (top >= 0 && !st->open[top].placed)
      place(st, top, opener(st, &st->open[top], off, 1));
    st->last_end = off + n;
    if (st->hlevel && !st->hfound) {
      st->hoff = off;
      st->hfound = 1;
    }
  }
  if (st->hlevel) add_plain(&st->htext, type, s, n);
  if (st->nopen) add_plain(&st->ltext, type, s, n);
  if (type == MD_TEXT_NORMAL) hashtags(st, s, n, off);
  return 0;
}

/* ------------------------------------------------------------ md_note_parse */

/* Lengths of the sections; line, column and section of each link. */
static void finish(pstate *st) {
  md_note *out = st->out;
  size_t ns = out->nsections;
  for (size_t i = 0; i < ns; i++) {
    size_t end = i + 1 < ns ? out->sections[i + 1].off : st->len;
    out->sections[i].len = end - out->sections[i].off;
  }
  lcur c = {0, 1, 0};
  for (size_t i = 0; i < out->nlinks; i++) {
    md_link *l = &out->links[i];
    lm_seek(&st->lm, &c, l->off);
    l->line = c.line;
    l->col = (long)(l->off - c.ls) + 1;
    size_t lo = 0, hi = ns;            /* last section with off <= l->off */
    while (hi - lo > 1) {
      size_t mid = lo + (hi - lo) / 2;
      if (out->sections[mid].off <= l->off) lo = mid;
      else hi = mid;
    }
    l->section = (int)lo;
    if (!l->text) l->text = cns_xstrdup("");
  }
}

static void state_free(pstate *st) {
  free(st->lm.cp);
  buf_free(&st->htext);
  buf_free(&st->ltext);
  for (int i = 0; i < 6; i++) free(st->path[i]);
  tag_free(&st->tags);
}

int md_note_parse(const char *text, size_t len, const char *fallback_title,
             md_note *out) {
  static const MD_PARSER parser = {
    0, MD_DIALECT_GITHUB | MD_FLAG_WIKILINKS | MD_FLAG_LATEXMATHSPANS,
    enter_block, leave_block, enter_span, leave_span, on_text, NULL, NULL,
  };
  pstate st;
  memset(&st, 0, sizeof st);
  memset(out, 0, sizeof *out);
  if (!text) text = "", len = 0;
  char *copy = cns_xmalloc(len + MD_PAD);  /* see MD_PAD */
  memcpy(copy, text, len);
  memset(copy + len, 0, MD_PAD);
  text = copy;
  st.t = text;
  st.len = len;
  st.out = out;
  st.body = front_matter(text, len, out, &st.tags);
  out->body_off = st.body;
  lm_build(&st.lm, text, len);
  st.hcur = st.lm.cp[0];
  st.seccap = 16;
  out->sections = cns_xmalloc(st.seccap * sizeof *out->sections);
  out->sections[0] = (md_section){0, 0, 1, 0, cns_xstrdup("")};
  out->nsections = 1;
  size_t blen = len - st.body;
  int rc = blen > UINT_MAX ? -1
           : md_parse(text + st.body, (MD_SIZE)blen, &parser, &st);
  while (rc == 0 && st.nopen) link_leave(&st); /* md4c balances; be safe */
  if (rc != 0) {
    state_free(&st);
    free(copy);
    md_note_free(out);
    return CNS_ELIMIT;
  }
  finish(&st);
  if (!out->title)
    out->title = cns_xstrdup(fallback_title ? fallback_title : "");
  out->tags = tag_join(&st.tags);
  state_free(&st);
  free(copy);
  return CNS_OK;
}

void md_note_free(md_note *n) {
  if (!n) return;
  free(n->title);
  free(n->date);
  free(n->tags);
  for (size_t i = 0; i < n->nsections; i++) free(n->sections[i].heading);
  free(n->sections);
  for (size_t i = 0; i < n->nlinks; i++) {
    free(n->links[i].text);
    free(n->links[i].url);
    free(n->links[i].title);
  }
  free(n->links);
  memset(n, 0, sizeof *n);
}
