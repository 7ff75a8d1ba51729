/*
** suggest.c -- "did you mean": close indexed words for a query that
** found nothing.
**
** The index vocabulary comes from an fts5vocab 'row' table over note_fts
** (made in the temp schema, so a read-only index works too).  A row of it
** costs a read of the term's whole doclist, to count the notes that hold
** it, so a pass over all of it reads the whole index: 150 ms for 100 MB,
** fifty times the search that found nothing.  Instead each word of the
** query, tokenized like the index, is looked for only in a few narrow
** ranges of terms, which fts5vocab seeks to and stops at ("term >= ?1
** AND term < ?2"):
**
**   - the terms that begin with the word's first two bytes: every term
**     whose differences all come after its second letter;
**   - for each one-letter edit of the word at its first or second byte
**     (a-z put in place of that letter or before it, the letter dropped,
**     the letter swapped with the next), the terms that begin with the
**     first four (edit at the first byte) or three (at the second) bytes
**     of the edited word.
**
** That is about a hundred seeks (10 us each, 30 us in an index of twenty
** segments) and a few thousand doclists rather than all of them: a few
** ms a word.  It finds every term one edit away (the letters a-z), and
** two away unless both edits fall in the first three or four letters.
** Words that do not begin with two ASCII bytes get the first range only:
** the edits know a-z, not their alphabet.  The ranges are sorted and
** none lies inside another, so no term is read twice.
**
** A term is close when its distance from the word is at most 2, counting
** letters put in, dropped or changed and neighbours swapped (optimal
** string alignment: "teh" is one edit from "the"); close terms are
** ranked by distance, then by how many notes hold them.
**
** Indexed terms are stems ("tenstorr"), which are not what a person
** typed; so for the closest stems the notes holding each, shortest of
** the first few first, are looked through for the word as written
** ("Tenstorrent", shown lower-cased) closest to the word as typed, and
** that is what is ranked again and shown.  The notes come from an
** fts5vocab 'instance' table, which takes a stem as it is: MATCH would
** stem it again ("licens" to "licen") and find none.  Only the places where a word
** begins with the stem's letters are tokenized, so a note of a megabyte
** costs a scan, not a tokenizing.  Only the query's words are looked at,
** never its filters or operators.  Suggestions are a courtesy: a
** database error ends the search for them and there are none.
*/
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "cnsint.h"

/* Each word costs some hundred seeks: a long query is a sentence, not a
** typo, and its first words are enough. */
#define MAX_WORDS 8
#define MAX_DIST 2
/* Stems re-ranked by the word as written: each costs a look in notes. */
#define MAX_SURFACE 20
/* Notes looked in for one stem's written word: the first NOTES_LOOKED
** that hold it, shortest first, until NOTE_BYTES have been read (the
** first is read whatever its length). */
#define NOTES_LOOKED 16
#define NOTE_BYTES (64 * 1024)
/* Bytes of a note tokenized at once when looking for a word in it: a
** piece of the whole, or either side of a likely place. */
#define PIECE 2048
#define SPAN 64

/* Prefix lengths (bytes) of the ranges: the word as typed, the word with
** an edit at its first byte, with an edit at its second. */
#define PLAIN_LEN 2
#define EDIT0_LEN 4
#define EDIT1_LEN 3
#define ALPHABET "abcdefghijklmnopqrstuvwxyz"
/* The plain prefix, then per edited byte 26 letters put in place or
** before, one drop, one swap. */
#define MAX_PREFIXES (1 + 2 * (2 * 26 + 2))

typedef struct prefix_set {
  char v[MAX_PREFIXES][EDIT0_LEN + 1]; /* NUL-terminated */
  size_t n;
} prefix_set;

typedef struct cand {
  char *term;
  int dist;
  long docs;
} cand;

typedef struct cand_list {
  cand *v;
  size_t n;
} cand_list;

/* What a call of cns_suggest() holds open; close_ctx() frees it. */
typedef struct ctx {
  sqlite3 *db;
  tok_ctx *tok;
  sqlite3_stmt *range; /* terms in [?1, ?2) with their note counts */
  sqlite3_stmt *notes; /* the first notes holding term ?1, shortest first */
  sqlite3_stmt *body;  /* the body of note ?1 */
} ctx;

static int has_letter(const char *s) {
  for (; *s; s++)
    if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
        (unsigned char)*s >= 0x80)
      return 1;
  return 0;
}

/* ASCII case folding (cnsearch never sets a locale: <ctype.h> is ASCII). */
static void lower(char *s) {
  for (; *s; s++) *s = (char)tolower((unsigned char)*s);
}

static int min2(int a, int b) { return a < b ? a : b; }

/* The distance between a and b (see the essay), or max + 1 when it is
** more than max or either is longer than 64 bytes.  Rows of the usual
** table; the swap looks two rows back. */
static int distance(const char *a, size_t na, const char *b, size_t nb,
                    int max) {
  int rows[3][66];
  int *two = rows[0], *one = rows[1], *cur = rows[2], *spare;
  if (na > 64 || nb > 64) return max + 1;
  for (size_t j = 0; j <= nb; j++) one[j] = (int)j;
  for (size_t i = 1; i <= na; i++) {
    int best = cur[0] = (int)i;
    for (size_t j = 1; j <= nb; j++) {
      int d = min2(one[j - 1] + (a[i - 1] != b[j - 1]),
                   min2(one[j], cur[j - 1]) + 1);
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d = min2(d, two[j - 2] + 1);
      cur[j] = d;
      best = min2(best, d);
    }
    /* A later row is at least this row's least, or the last row's
    ** least (no less than this one's - 1) plus a swap. */
    if (best > max) return max + 1;
    spare = two;
    two = one;
    one = cur;
    cur = spare;
  }
  return one[nb];
}

/* ---- the ranges of terms looked at ------------------------------------ */

/* Add the first keep bytes of w[0..i) + mid[0..mn) + w[i+skip..wn). */
static void add_prefix(prefix_set *ps, const char *w, size_t wn, size_t i,
                       const char *mid, size_t mn, size_t skip,
                       size_t keep) {
  char *p = ps->v[ps->n];
  size_t n = 0;
  for (size_t j = 0; j < i && n < keep; j++) p[n++] = w[j];
  for (size_t j = 0; j < mn && n < keep; j++) p[n++] = mid[j];
  for (size_t j = i + skip; j < wn && n < keep; j++) p[n++] = w[j];
  p[n] = '\0';
  if (n) ps->n++;
}

/* The one-letter edits of w at byte i, each cut to keep bytes. */
static void add_edits(prefix_set *ps, const char *w, size_t wn, size_t i,
                      size_t keep) {
  for (const char *c = ALPHABET; *c; c++) {
    add_prefix(ps, w, wn, i, c, 1, 1, keep); /* changed */
    add_prefix(ps, w, wn, i, c, 1, 0, keep); /* put in */
  }
  add_prefix(ps, w, wn, i, "", 0, 1, keep); /* dropped */
  if (i + 1 < wn) {
    char swap[2] = {w[i + 1], w[i]};
    add_prefix(ps, w, wn, i, swap, 2, 2, keep);
  }
}

static int by_bytes(const void *x, const void *y) { return strcmp(x, y); }

/* Sort the prefixes and drop each one a shorter one covers: a prefix
** sorts just before the strings that extend it. */
static void compact(prefix_set *ps) {
  size_t keep = 0;
  qsort(ps->v, ps->n, sizeof ps->v[0], by_bytes);
  for (size_t i = 0; i < ps->n; i++) {
    const char *last = keep ? ps->v[keep - 1] : NULL;
    if (last && strncmp(ps->v[i], last, strlen(last)) == 0) continue;
    memmove(ps->v[keep++], ps->v[i], sizeof ps->v[0]);
  }
  ps->n = keep;
}

/* The prefixes of the ranges looked at for the stem w (wn >= 3 bytes). */
static void word_prefixes(const char *w, size_t wn, prefix_set *ps) {
  ps->n = 0;
  add_prefix(ps, w, wn, 0, "", 0, 0, PLAIN_LEN);
  if ((unsigned char)w[0] < 0x80 && (unsigned char)w[1] < 0x80) {
    add_edits(ps, w, wn, 0, EDIT0_LEN);
    add_edits(ps, w, wn, 1, EDIT1_LEN);
  }
  compact(ps);
}

/* ---- collecting close terms ------------------------------------------- */

/* Keep the term of st's current row if it is close to w. */
static void consider(sqlite3_stmt *st, const char *w, size_t wn,
                     cand_list *c) {
  const char *t = (const char *)sqlite3_column_text(st, 0);
  size_t tn = (size_t)sqlite3_column_bytes(st, 0);
  if (!t || (tn > wn ? tn - wn : wn - tn) > MAX_DIST) return;
  if (tn == wn && memcmp(t, w, wn) == 0) return;
  if (tn < 3 || !has_letter(t)) return; /* "10" is no word to suggest */
  int d = distance(w, wn, t, tn, MAX_DIST);
  if (d > MAX_DIST) return;
  c->v = cns_xrealloc(c->v, (c->n + 1) * sizeof *c->v);
  c->v[c->n++] = (cand){cns_xstrndup(t, tn), d, sqlite3_column_int64(st, 1)};
}

/* Add to c the terms that begin with p and are close to w.  The range
** ends before p with its last byte raised; UTF-8 never holds 0xff. */
static int scan_range(ctx *x, const char *p, const char *w, size_t wn,
                      cand_list *c) {
  size_t n = strlen(p);
  char hi[EDIT0_LEN + 1];
  memcpy(hi, p, n + 1);
  if ((unsigned char)hi[n - 1] == 0xff) return SQLITE_OK;
  hi[n - 1] = (char)((unsigned char)hi[n - 1] + 1);
  int rc = sqlite3_bind_text(x->range, 1, p, (int)n, SQLITE_TRANSIENT);
  if (rc == SQLITE_OK)
    rc = sqlite3_bind_text(x->range, 2, hi, (int)n, SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) return rc;
  while ((rc = sqlite3_step(x->range)) == SQLITE_ROW)
    consider(x->range, w, wn, c);
  int reset = sqlite3_reset(x->range);
  return rc == SQLITE_DONE ? reset : rc;
}

/* Collect into c the indexed terms close to the stem w (wn >= 3). */
static int close_terms(ctx *x, const char *w, size_t wn, cand_list *c) {
  prefix_set ps;
  int rc = SQLITE_OK;
  word_prefixes(w, wn, &ps);
  for (size_t i = 0; i < ps.n && rc == SQLITE_OK; i++)
    rc = scan_range(x, ps.v[i], w, wn, c);
  return rc;
}

static int by_rank(const void *x, const void *y) {
  const cand *a = x, *b = y;
  if (a->dist != b->dist) return a->dist - b->dist;
  return a->docs > b->docs ? -1 : a->docs < b->docs;
}

/* ---- from stems to words as written ----------------------------------- */

/* The written word closest to the typed one found so far. */
typedef struct best {
  const char *typed;
  char *word; /* lower-cased; NULL until one is found */
  int dist;   /* from typed, at most MAX_DIST + 1 */
} best;

static void offer(best *b, const char *w, size_t n) {
  char *word = cns_xstrndup(w, n);
  lower(word);
  int d = distance(b->typed, strlen(b->typed), word, n, MAX_DIST);
  if (!b->word || d < b->dist) {
    free(b->word);
    b->word = word;
    b->dist = d;
  } else {
    free(word);
  }
}

/* Offer b each word of text[0..n) whose stem is stem. */
static void offer_words(tok_ctx *tok, const char *text, size_t n,
                        const char *stem, best *b) {
  tok_list l = {0};
  if (tok_run(tok, text, n, 0, &l) == SQLITE_OK)
    for (size_t i = 0; i < l.n; i++)
      if (strcmp(tok_text(&l, i), stem) == 0)
        offer(b, text + l.v[i].start, l.v[i].end - l.v[i].start);
  tok_list_free(&l);
}

static int is_ascii(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] >= 0x80) return 0;
  return 1;
}

/* Where the next word of text[from..n) that begins with stem[0..k)
** (ASCII case ignored) begins, or n. */
static size_t next_start(const char *text, size_t n, size_t from,
                         const char *stem, size_t k) {
  for (size_t i = from; i + k <= n; i++) {
    if (tolower((unsigned char)text[i]) != stem[0] || (i && isalnum((unsigned char)text[i - 1])))
      continue;
    size_t j = 1;
    while (j < k && tolower((unsigned char)text[i + j]) == stem[j]) j++;
    if (j == k) return i;
  }
  return n;
}

/* The stretch [*s, *e) of text[0..n) around byte i, out to the spaces
** either side (no token spans one) but no more than SPAN bytes each way,
** and not cutting a UTF-8 sequence. */
static void around(const char *text, size_t n, size_t i, size_t *s,
                   size_t *e) {
  *s = *e = i;
  while (*s > 0 && i - *s < SPAN && !isspace((unsigned char)text[*s - 1])) (*s)--;
  while (*s < i && ((unsigned char)text[*s] & 0xc0) == 0x80) (*s)++;
  while (*e < n && *e - i < SPAN && !isspace((unsigned char)text[*e])) (*e)++;
  while (*e < n && ((unsigned char)text[*e] & 0xc0) == 0x80) (*e)++;
}

/* The length of the piece of text[0..n) tokenized at once: PIECE bytes
** or a little more, up to a space. */
static size_t piece_len(const char *text, size_t n) {
  size_t len = n < PIECE ? n : PIECE;
  while (len < n && !isspace((unsigned char)text[len])) len++;
  return len;
}

/* Offer b the words of text[0..n) whose stem is stem (3 bytes or more),
** until one is 1 from the typed word (none is 0: it would have the
** typed word's stem).  Tokenizing a note of a megabyte for each of 20
** candidates would take longer than the search, so only the stretches
** around words that begin with the stem less its last byte (which the
** stemmer may have changed: "happi" for "happy") are tokenized.  When
** none shows it (a folded letter: "Ärger", stem "arger") the text is
** tokenized a piece at a time up to the first piece that does. */
static void written_as(tok_ctx *tok, const char *text, size_t n,
                       const char *stem, best *b) {
  size_t k = strlen(stem) - 1, s, e;
  if (is_ascii(stem, k))
    for (size_t i = next_start(text, n, 0, stem, k); i < n && b->dist > 1;
         i = next_start(text, n, e, stem, k)) {
      around(text, n, i, &s, &e);
      offer_words(tok, text + s, e - s, stem, b);
    }
  for (size_t at = 0, len; !b->word && at < n; at += len) {
    len = piece_len(text + at, n - at);
    offer_words(tok, text + at, len, stem, b);
  }
}

/* Offer b the words of note id's body whose stem is stem; *seen grows
** by the body's length. */
static int offer_note(ctx *x, sqlite3_int64 id, const char *stem, best *b,
                      size_t *seen) {
  int rc = sqlite3_bind_int64(x->body, 1, id);
  if (rc == SQLITE_OK && (rc = sqlite3_step(x->body)) == SQLITE_ROW) {
    const char *t = (const char *)sqlite3_column_text(x->body, 0);
    size_t n = (size_t)sqlite3_column_bytes(x->body, 0);
    if (t) written_as(x->tok, t, n, stem, b);
    *seen += n;
  }
  int reset = sqlite3_reset(x->body);
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? reset : rc;
}

/* The word as written closest to typed, looked for in the notes that
** hold stem, shortest of the first few first, until one is 1 away or
** NOTE_BYTES have been read; or stem when no note's body shows it (it
** is in a title or link): in *out, which the caller frees with free().
** Returns an SQLite code. */
static int surface_form(ctx *x, const char *stem, const char *typed,
                        char **out) {
  best b = {typed, NULL, MAX_DIST + 1};
  size_t seen = 0;
  int rc = sqlite3_bind_text(x->notes, 1, stem, -1, SQLITE_TRANSIENT);
  while (rc == SQLITE_OK && b.dist > 1 && seen < NOTE_BYTES &&
         (rc = sqlite3_step(x->notes)) == SQLITE_ROW)
    rc = offer_note(x, sqlite3_column_int64(x->notes, 0), stem, &b, &seen);
  int reset = sqlite3_reset(x->notes);
  *out = b.word ? b.word : cns_xstrdup(stem);
  return rc == SQLITE_OK || rc == SQLITE_DONE ? reset : rc;
}

/* Whether w is among the suggestions in b ("a, b, c"). */
static int listed(const buf *b, const char *w) {
  char *hay = cns_xasprintf(", %s, ", buf_str(b));
  char *needle = cns_xasprintf(", %s, ", w);
  int found = strstr(hay, needle) != NULL;
  free(hay);
  free(needle);
  return found;
}

static void add_unique(buf *b, const char *w, int *shown) {
  if (listed(b, w)) return;
  if (b->len) buf_adds(b, ", ");
  buf_adds(b, w);
  (*shown)++;
}

/* Whether candidate c can no longer be among the need shown: as many
** kept ones (k[0..nk), not suggested yet) are at the least distance a
** written word can have, 1, and in at least as many notes.  Saves
** looking for c in a note, which may be long. */
static int outranked(const cand *k, size_t nk, const cand *c,
                     const buf *out, int need) {
  int better = 0;
  for (size_t j = 0; j < nk; j++)
    if (k[j].dist == 1 && k[j].docs >= c->docs && !listed(out, k[j].term))
      better++;
  return better >= need;
}

/* Re-rank the first candidates by the distance between the typed word
** and the word as written in the notes; keep those within MAX_DIST, in
** c->v[0..*keep), best first.  need: how many more can be shown after
** those in out. */
static int by_surface(ctx *x, const char *typed, cand_list *c,
                      const buf *out, int need, size_t *keep) {
  size_t tn = strlen(typed);
  int rc = SQLITE_OK;
  *keep = 0;
  for (size_t i = 0; i < c->n && i < MAX_SURFACE && rc == SQLITE_OK; i++) {
    char *w;
    if (outranked(c->v, *keep, &c->v[i], out, need)) continue;
    rc = surface_form(x, c->v[i].term, typed, &w);
    int d = distance(typed, tn, w, strlen(w), MAX_DIST);
    free(c->v[i].term);
    c->v[i].term = w;
    if (d <= MAX_DIST && strcmp(w, typed) != 0) {
      cand tmp = c->v[*keep];
      c->v[i].dist = d;
      c->v[(*keep)++] = c->v[i];
      c->v[i] = tmp;
    }
  }
  if (*keep > 1) qsort(c->v, *keep, sizeof *c->v, by_rank);
  return rc;
}

/* ---- the whole query -------------------------------------------------- */

/* Suggestions for one typed word, appended to out. */
static int suggest_word(ctx *x, const char *word, buf *out, int *shown,
                        int max) {
  tok_list l = {0};
  cand_list c = {NULL, 0};
  size_t keep = 0;
  char *typed = cns_xstrdup(word);
  lower(typed);
  int rc = tok_run(x->tok, word, strlen(word), 1, &l);
  if (rc == SQLITE_OK && l.n == 1 && l.v[0].text_len >= 3)
    rc = close_terms(x, tok_text(&l, 0), l.v[0].text_len, &c);
  if (rc == SQLITE_OK && c.n) {
    qsort(c.v, c.n, sizeof *c.v, by_rank);
    rc = by_surface(x, typed, &c, out, max - *shown, &keep);
  }
  for (size_t i = 0; rc == SQLITE_OK && i < keep && *shown < max; i++)
    add_unique(out, c.v[i].term, shown);
  for (size_t i = 0; i < c.n; i++) free(c.v[i].term);
  free(c.v);
  free(typed);
  tok_list_free(&l);
  return rc;
}

static int open_ctx(ctx *x) {
  int rc = sqlite3_exec(x->db,
                        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.cns_vocab "
                        "USING fts5vocab(main, note_fts, row);"
                        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.cns_where "
                        "USING fts5vocab(main, note_fts, instance)",
                        NULL, NULL, NULL);
  if (rc == SQLITE_OK) rc = tok_open(x->db, &x->tok);
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v2(x->db,
                            "SELECT term, doc FROM temp.cns_vocab "
                            "WHERE term >= ?1 AND term < ?2",
                            -1, &x->range, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v2(x->db,
                            "SELECT id FROM note WHERE id IN (SELECT "
                            "DISTINCT doc FROM temp.cns_where WHERE term = "
                            "?1 LIMIT " CNS_STR(NOTES_LOOKED) ") "
                            "ORDER BY size",
                            -1, &x->notes, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v2(x->db,
                            "SELECT unpack(z, len) FROM body WHERE note = ?1",
                            -1, &x->body, NULL);
  return rc;
}

static void close_ctx(ctx *x) {
  sqlite3_finalize(x->range);
  sqlite3_finalize(x->notes);
  sqlite3_finalize(x->body);
  tok_close(x->tok);
}

/* A word of the query worth suggesting for: no prefix* or phrase. */
static int is_word(const qp_term *t) {
  return !t->prefix && !strchr(t->text, ' ') && has_letter(t->text);
}

char *cns_suggest(cns *h, const char *query, int max) {
  ctx x = {h->db, NULL, NULL, NULL, NULL};
  qp_plan *plan = NULL;
  buf out = BUF_INIT, err = BUF_INIT;
  int shown = 0, rc = open_ctx(&x);
  if (rc == SQLITE_OK &&
      qp_compile(query, strlen(query), &plan, &err) == CNS_OK)
    for (size_t i = 0, tried = 0; rc == SQLITE_OK && i < plan->nterms &&
                                  tried < MAX_WORDS && shown < max;
         i++)
      if (is_word(&plan->terms[i])) {
        rc = suggest_word(&x, plan->terms[i].text, &out, &shown, max);
        tried++;
      }
  close_ctx(&x);
  qp_plan_free(plan);
  buf_free(&err);
  if (rc != SQLITE_OK || !out.len) {
    buf_free(&out);
    return NULL;
  }
  return buf_detach(&out);
}
