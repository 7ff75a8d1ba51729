/*
** suggest.c -- "did you mean": close indexed words for a query that
** found nothing.
**
** The index vocabulary comes from an fts5vocab table over note_fts (made
** in the temp schema, so a read-only index works too).  Each word of the
** query, tokenized like the index, is compared with every indexed term
** of similar length by Levenshtein distance; terms within distance 2 are
** ranked by distance, then by how many notes hold them.
**
** Indexed terms are stems ("tenstorr"), which are not what a person
** typed; so for the closest stems the first note holding each is
** tokenized again, and the word as written there ("tenstorrent") is
** what is compared with the word as typed and shown.  Only the query's
** words are looked at, never its filters or operators.
*/
#include <stdlib.h>
#include <string.h>
#include "cnsint.h"

/* Each word costs a pass over the vocabulary: a long query is a sentence,
** not a typo, and its first words are enough. */
#define MAX_WORDS 8

static int has_letter(const char *s) {
  for (; *s; s++)
    if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
        (unsigned char)*s >= 0x80)
      return 1;
  return 0;
}

typedef struct cand {
  char *term;
  int dist;
  long docs;
} cand;

static int levenshtein(const char *a, size_t na, const char *b, size_t nb,
                       int max) {
  int row[66];
  if (na > 64 || nb > 64) return max + 1;
  for (size_t j = 0; j <= nb; j++) row[j] = (int)j;
  for (size_t i = 1; i <= na; i++) {
    int prev = row[0], best;
    row[0] = (int)i;
    best = row[0];
    for (size_t j = 1; j <= nb; j++) {
      int cur = row[j];
      int sub = prev + (a[i - 1] != b[j - 1]);
      int del = row[j] + 1, ins = row[j - 1] + 1;
      row[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
      prev = cur;
      if (row[j] < best) best = row[j];
    }
    if (best > max) return max + 1;
  }
  return row[nb];
}

static int by_rank(const void *x, const void *y) {
  const cand *a = x, *b = y;
  if (a->dist != b->dist) return a->dist - b->dist;
  return a->docs > b->docs ? -1 : a->docs < b->docs;
}

/* Collect vocabulary terms close to word into *out. */
static void close_terms(sqlite3_stmt *st, const char *w, size_t wn,
                        cand **out, size_t *n) {
  while (sqlite3_step(st) == SQLITE_ROW) {
    const char *t = (const char *)sqlite3_column_text(st, 0);
    size_t tn = (size_t)sqlite3_column_bytes(st, 0);
    if (!t || (tn > wn ? tn - wn : wn - tn) > 2) continue;
    if (tn == wn && memcmp(t, w, wn) == 0) continue;
    if (tn < 3 || !has_letter(t)) continue; /* "10" is no word to suggest */
    int d = levenshtein(w, wn, t, tn, 2);
    if (d > 2) continue;
    *out = cns_xrealloc(*out, (*n + 1) * sizeof **out);
    (*out)[(*n)++] = (cand){cns_xstrndup(t, tn), d, sqlite3_column_int64(st, 1)};
  }
  sqlite3_reset(st);
}

/* The word as written in the first note that holds the stem. */
static char *surface_form(sqlite3 *db, tok_ctx *tok, const char *stem) {
  sqlite3_stmt *st;
  char *out = NULL;
  if (sqlite3_prepare_v2(db, "SELECT body FROM note_doc WHERE id = (SELECT rowid "
                             "FROM note_fts WHERE note_fts MATCH ?1 LIMIT 1)",
                         -1, &st, NULL) != SQLITE_OK)
    return cns_xstrdup(stem);
  char *q = cns_xasprintf("\"%s\"", stem);
  sqlite3_bind_text(st, 1, q, -1, SQLITE_TRANSIENT);
  free(q);
  if (sqlite3_step(st) == SQLITE_ROW) {
    const char *b = (const char *)sqlite3_column_text(st, 0);
    size_t n = (size_t)sqlite3_column_bytes(st, 0);
    tok_list l = {0};
    if (b && tok_run(tok, b, n, 0, &l) == SQLITE_OK)
      for (size_t i = 0; i < l.n && !out; i++)
        if (strcmp(tok_text(&l, i), stem) == 0)
          out = cns_xstrndup(b + l.v[i].start, l.v[i].end - l.v[i].start);
    tok_list_free(&l);
  }
  sqlite3_finalize(st);
  if (out)
    for (char *p = out; *p; p++)
      if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
  return out ? out : cns_xstrdup(stem);
}

static void add_unique(buf *b, const char *w, int *shown) {
  char *hay = cns_xasprintf(", %s, ", buf_str(b));
  char *needle = cns_xasprintf(", %s, ", w);
  if (!strstr(hay, needle)) {
    if (b->len) buf_adds(b, ", ");
    buf_adds(b, w);
    (*shown)++;
  }
  free(hay);
  free(needle);
}

/* Re-rank candidates by the distance between the typed word and the
** word as written in the notes; keep those within 2. */
static size_t by_surface(sqlite3 *db, tok_ctx *tok, const char *typed,
                         cand *c, size_t nc) {
  size_t keep = 0, tn = strlen(typed);
  for (size_t i = 0; i < nc && i < 20; i++) {
    char *w = surface_form(db, tok, c[i].term);
    int d = levenshtein(typed, tn, w, strlen(w), 2);
    free(c[i].term);
    c[i].term = w;
    if (d <= 2 && strcmp(w, typed) != 0) {
      c[i].dist = d;
      cand tmp = c[keep];
      c[keep++] = c[i];
      c[i] = tmp;
    }
  }
  if (keep > 1) qsort(c, keep, sizeof *c, by_rank);
  return keep;
}

static void lower(char *s) {
  for (; *s; s++)
    if (*s >= 'A' && *s <= 'Z') *s = (char)(*s - 'A' + 'a');
}

/* Suggestions for one typed word, appended to out. */
static void suggest_word(sqlite3 *db, tok_ctx *tok, sqlite3_stmt *st,
                         const char *word, buf *out, int *shown, int max) {
  tok_list l = {0};
  cand *c = NULL;
  size_t nc = 0;
  char *typed = cns_xstrdup(word);
  lower(typed);
  if (tok_run(tok, word, strlen(word), 1, &l) == SQLITE_OK && l.n == 1 &&
      l.v[0].text_len >= 3)
    close_terms(st, tok_text(&l, 0), l.v[0].text_len, &c, &nc);
  if (nc) qsort(c, nc, sizeof *c, by_rank);
  size_t keep = by_surface(db, tok, typed, c, nc);
  for (size_t i = 0; i < keep && *shown < max; i++)
    add_unique(out, c[i].term, shown);
  for (size_t i = 0; i < nc; i++) free(c[i].term);
  free(c);
  free(typed);
  tok_list_free(&l);
}

char *cns_suggest(cns *h, const char *query, int max) {
  tok_ctx *tok = NULL;
  sqlite3_stmt *st = NULL;
  qp_plan *plan = NULL;
  buf out = BUF_INIT, err = BUF_INIT;
  int shown = 0;
  sqlite3_exec(h->db, "CREATE VIRTUAL TABLE IF NOT EXISTS temp.cns_vocab "
                      "USING fts5vocab(main, note_fts, row)",
               NULL, NULL, NULL);
  if (qp_compile(query, strlen(query), &plan, &err) == CNS_OK &&
      tok_open(h->db, &tok) == SQLITE_OK &&
      sqlite3_prepare_v2(h->db, "SELECT term, doc FROM temp.cns_vocab", -1,
                         &st, NULL) == SQLITE_OK)
    for (size_t i = 0, tried = 0; i < plan->nterms && tried < MAX_WORDS; i++)
      if (!plan->terms[i].prefix && !strchr(plan->terms[i].text, ' ') &&
          has_letter(plan->terms[i].text)) {
        suggest_word(h->db, tok, st, plan->terms[i].text, &out, &shown, max);
        tried++;
      }
  sqlite3_finalize(st);
  tok_close(tok);
  qp_plan_free(plan);
  buf_free(&err);
  if (!out.len) {
    buf_free(&out);
    return NULL;
  }
  return buf_detach(&out);
}
