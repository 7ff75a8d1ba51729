/*
** tok.c -- the tokenizer shared by the index and by the query side.
**
** Technical notes need more than FTS5's stock "porter unicode61": case
** and diacritics must fold ("Pérez" = "perez"), words must stem ("routing"
** = "route"), and tokens like "C++" or "C#" must not collapse into the
** letter "c".  Rather than write Unicode tables by hand we stack on
** FTS5's own tokenizers:
**
**     cns  =  porter( cnsbase )
**     cnsbase = unicode61(remove_diacritics 2, tokenchars "+#") + split
**
** unicode61 keeps '+' and '#' inside tokens; cnsbase then splits them out
** again except where they end a short word ("c++", "c#", "f#"): those stay
** one token, and in documents the bare stem ("c") is added as a colocated
** token so that a search for "c" still finds "C++".  Queries get no
** colocated forms, so "C++" matches only "C++".  Hyphenated and dotted
** tokens ("GPT-3.5", "reduce-scatter", "llama.cpp") are split by
** unicode61 into adjacent tokens; the query side searches them as phrases,
** which finds them as typed.
**
** The same tokenizer is used outside FTS5 (tok_open/tok_run) to find the
** byte position of matched words in a note, so positions, snippets and
** the index can never disagree on what a word is.  A search only wants
** its own words back, and stemming every word of every note it shows is
** most of the tokenizing cost: tok_sieve() stems only the words whose
** first byte some query word starts with.  Porter only rewrites the end
** of a word (every rule leaves a non-empty stem in front), so a word's
** stem starts with the word's own first byte and nothing is missed; the
** words let through are stemmed by porter over "cnsone", a tokenizer that
** hands porter its whole input as one token, so they get exactly the stem
** cns gives them.  And it need not read all of a note: only the stretches
** around each query word's "anchor", the bytes every form of the word
** starts with (see tok_want()).
**
** Tapes.  FTS5 tokenizes a row inside the INSERT, on the thread that
** writes, and in a full index that thread is the one the load waits
** for (the other reads, parses and compresses).  So the feed thread
** also runs cns over the four columns of each note and records the
** tokens it gives on a tape (tok_record); the writer arms the tape
** around the INSERT (tok_replay_arm), and the "cns" FTS5 instance, asked
** to tokenize a document text equal byte for byte to one on the tape,
** hands back the recorded tokens instead of computing them.  Equal text
** through the same tokenizer gives the same tokens, so the index cannot
** tell the difference (`cnsearch check` indexes note_doc afresh and
** compares); any other text -- a delete, a query, a page, a column the
** tape lacks -- is tokenized as always.  Where a tape is armed is per
** connection (tok_replay): tok_register() hangs it on the registration of
** "cns" itself, FTS5's instances of cns on that connection read it, and
** tok_ctx's instances (the feed's, on its own thread) never do.
*/
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include "cnsint.h"

/* ---- getting at FTS5 ------------------------------------------------ */

fts5_api *tok_fts5_api(sqlite3 *db) {
  fts5_api *api = NULL;
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, NULL) != SQLITE_OK)
    return NULL;
  sqlite3_bind_pointer(st, 1, (void *)&api, "fts5_api_ptr", NULL);
  sqlite3_step(st);
  if (sqlite3_finalize(st) != SQLITE_OK) return NULL;
  return api;
}

int tok_make(fts5_api *api, const char *name, const char **argv, int argc,
             fts5_tokenizer *t, Fts5Tokenizer **inst) {
  void *ud = NULL;
  int rc = api->xFindTokenizer(api, name, &ud, t);
  return rc == SQLITE_OK ? t->xCreate(ud, argv, argc, inst) : rc;
}

/* ---- cnsbase: unicode61 plus the '+'/'#' rules ---------------------- */

typedef struct base_tok {
  fts5_tokenizer parent;
  Fts5Tokenizer *inst;
} base_tok;

typedef struct base_cb_ctx {
  void *ctx;
  int (*xToken)(void *, int, const char *, int, int, int);
  int query;
} base_cb_ctx;

static int is_mark(char c) { return c == '+' || c == '#'; }

/* "c++", "c#", "f#": a word followed by at most two marks and nothing else */
static int is_lang_token(const char *t, int n, int *core) {
  int i = 0;
  while (i < n && !is_mark(t[i])) i++;
  if (i == 0 || n - i > 2) return 0;
  for (int j = i; j < n; j++)
    if (!is_mark(t[j])) return 0;
  *core = i;
  return 1;
}

/* Emit the pieces of t between marks as separate tokens. */
static int emit_pieces(base_cb_ctx *c, int tflags, const char *t, int n,
                       int start, int end) {
  int direct = (end - start == n); /* token bytes map 1:1 to the source */
  int i = 0, rc = SQLITE_OK;
  while (rc == SQLITE_OK && i < n) {
    while (i < n && is_mark(t[i])) i++;
    int j = i;
    while (j < n && !is_mark(t[j])) j++;
    if (j > i) {
      int s = direct ? start + i : start, e = direct ? start + j : end;
      rc = c->xToken(c->ctx, tflags, t + i, j - i, s, e);
    }
    i = j;
  }
  return rc;
}

static int base_cb(void *arg, int tflags, const char *t, int n, int start,
                   int end) {
  base_cb_ctx *c = arg;
  int core, has_mark = 0;
  for (int i = 0; i < n && !has_mark; i++) has_mark = is_mark(t[i]);
  if (!has_mark) return c->xToken(c->ctx, tflags, t, n, start, end);
  if (is_lang_token(t, n, &core)) {
    int rc = c->xToken(c->ctx, tflags, t, n, start, end);
    if (rc == SQLITE_OK && !c->query)
      rc = c->xToken(c->ctx, FTS5_TOKEN_COLOCATED, t, core, start, end);
    return rc;
  }
  return emit_pieces(c, tflags, t, n, start, end);
}

static int base_create(void *ud, const char **argv, int argc,
                       Fts5Tokenizer **out) {
  fts5_api *api = ud;
  base_tok *b = cns_xcalloc(1, sizeof *b);
  static const char *args[] = {"remove_diacritics", "2", "tokenchars", "+#"};
  int rc = tok_make(api, "unicode61", args, 4, &b->parent, &b->inst);
  if (rc != SQLITE_OK) {
    free(b);
    return rc;
  }
  *out = (Fts5Tokenizer *)b;
  return SQLITE_OK;
}

static void base_delete(Fts5Tokenizer *t) {
  base_tok *b = (base_tok *)t;
  if (b) b->parent.xDelete(b->inst);
  free(b);
}

static int base_tokenize(Fts5Tokenizer *t, void *ctx, int flags,
                         const char *text, int n,
                         int (*xToken)(void *, int, const char *, int, int,
                                       int)) {
  base_tok *b = (base_tok *)t;
  base_cb_ctx c = {ctx, xToken, (flags & FTS5_TOKENIZE_QUERY) != 0};
  return b->parent.xTokenize(b->inst, &c, flags, text, n, base_cb);
}

/* ---- cns: porter over cnsbase --------------------------------------- */

/* What "cns" is registered with, once per connection: FTS5's API and the
** tape the connection's writer armed, if any.  FTS5 frees it with the
** connection (replay_free). */
struct tok_replay {
  fts5_api *api;
  const tok_tape *armed;
};

static void replay_free(void *p) { free(p); }

typedef struct cns_tok {
  fts5_tokenizer porter;
  Fts5Tokenizer *inst;
  tok_replay *replay;
} cns_tok;

static int cns_create(void *ud, const char **argv, int argc,
                      Fts5Tokenizer **out) {
  tok_replay *r = ud;
  fts5_api *api = r->api;
  cns_tok *c = cns_xcalloc(1, sizeof *c);
  c->replay = r;
  static const char *args[] = {"cnsbase"};
  int rc = tok_make(api, "porter", args, 1, &c->porter, &c->inst);
  if (rc != SQLITE_OK) {
    free(c);
    return rc;
  }
  *out = (Fts5Tokenizer *)c;
  return SQLITE_OK;
}

static void cns_delete(Fts5Tokenizer *t) {
  cns_tok *c = (cns_tok *)t;
  if (c) c->porter.xDelete(c->inst);
  free(c);
}

typedef int (*tok_cb)(void *, int, const char *, int, int, int);

/* cns itself, without a look at any tape. */
static int cns_fresh(Fts5Tokenizer *t, void *ctx, int flags, const char *text,
                     int n, tok_cb xToken) {
  cns_tok *c = (cns_tok *)t;
  return c->porter.xTokenize(c->inst, ctx, flags, text, n, xToken);
}

static int replay(const tok_tape *tape, const char *text, int n, void *ctx,
                  tok_cb xToken, int *rc);

static int cns_tokenize(Fts5Tokenizer *t, void *ctx, int flags,
                        const char *text, int n, tok_cb xToken) {
  const tok_tape *tape = ((cns_tok *)t)->replay->armed;
  int rc;
  if (tape && flags == FTS5_TOKENIZE_DOCUMENT &&
      replay(tape, text, n, ctx, xToken, &rc))
    return rc;
  return cns_fresh(t, ctx, flags, text, n, xToken);
}

/* ---- cnsone: the whole input as one token --------------------------- */

static int one_create(void *ud, const char **argv, int argc,
                      Fts5Tokenizer **out) {
  static int dummy;
  *out = (Fts5Tokenizer *)&dummy; /* stateless */
  return SQLITE_OK;
}

static void one_delete(Fts5Tokenizer *t) {}

static int one_tokenize(Fts5Tokenizer *t, void *ctx, int flags,
                        const char *text, int n,
                        int (*xToken)(void *, int, const char *, int, int,
                                      int)) {
  return n > 0 ? xToken(ctx, 0, text, n, 0, n) : SQLITE_OK;
}

int tok_register(sqlite3 *db) {
  fts5_api *api = tok_fts5_api(db);
  if (!api) return SQLITE_ERROR;
  fts5_tokenizer base = {base_create, base_delete, base_tokenize};
  fts5_tokenizer top = {cns_create, cns_delete, cns_tokenize};
  fts5_tokenizer one = {one_create, one_delete, one_tokenize};
  int rc = api->xCreateTokenizer(api, "cnsbase", api, &base, NULL);
  if (rc == SQLITE_OK) {
    tok_replay *r = cns_xcalloc(1, sizeof *r);
    r->api = api;
    rc = api->xCreateTokenizer(api, "cns", r, &top, replay_free);
    if (rc != SQLITE_OK) free(r); /* FTS5 keeps it only once registered */
  }
  if (rc == SQLITE_OK)
    rc = api->xCreateTokenizer(api, "cnsone", api, &one, NULL);
  return rc;
}

/* ---- the tokenizer outside FTS5 ------------------------------------- */

struct tok_ctx {
  fts5_tokenizer api, base_api, stem_api;
  Fts5Tokenizer *inst;  /* cns */
  Fts5Tokenizer *base;  /* cnsbase, for tok_sieve() */
  Fts5Tokenizer *stem;  /* porter(cnsone), for tok_sieve() */
};

int tok_open(sqlite3 *db, tok_ctx **out) {
  static const char *one[] = {"cnsone"};
  fts5_api *api = tok_fts5_api(db);
  *out = NULL;
  if (!api) return SQLITE_ERROR;
  tok_ctx *t = cns_xcalloc(1, sizeof *t);
  int rc = tok_make(api, "cns", NULL, 0, &t->api, &t->inst);
  if (rc == SQLITE_OK)
    rc = tok_make(api, "cnsbase", NULL, 0, &t->base_api, &t->base);
  if (rc == SQLITE_OK)
    rc = tok_make(api, "porter", one, 1, &t->stem_api, &t->stem);
  if (rc != SQLITE_OK) {
    tok_close(t);
    return rc;
  }
  *out = t;
  return SQLITE_OK;
}

void tok_close(tok_ctx *t) {
  if (!t) return;
  if (t->inst) t->api.xDelete(t->inst);
  if (t->base) t->base_api.xDelete(t->base);
  if (t->stem) t->stem_api.xDelete(t->stem);
  free(t);
}

typedef struct collect_ctx {
  tok_list *l;
  int pos;
} collect_ctx;

static void append(tok_list *l, const char *t, int n, int start, int end,
                   int pos) {
  if (l->n == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 64;
    l->v = cns_xrealloc(l->v, l->cap * sizeof *l->v);
  }
  tok_token *k = &l->v[l->n++];
  k->text_off = l->pool.len;
  k->text_len = (size_t)n;
  k->start = (size_t)start;
  k->end = (size_t)end;
  k->pos = pos;
  buf_add(&l->pool, t, (size_t)n);
  buf_addc(&l->pool, 0);
}

static int collect(void *arg, int tflags, const char *t, int n, int start,
                   int end) {
  collect_ctx *c = arg;
  if (!(tflags & FTS5_TOKEN_COLOCATED)) c->pos++;
  append(c->l, t, n, start, end, c->pos);
  return SQLITE_OK;
}

int tok_run(tok_ctx *t, const char *text, size_t len, int query,
            tok_list *out) {
  int base = out->n ? out->v[out->n - 1].pos : 0;
  collect_ctx c = {out, base};
  if (len > 0x7fffffff) return SQLITE_TOOBIG;
  int flags = query ? FTS5_TOKENIZE_QUERY : FTS5_TOKENIZE_DOCUMENT;
  return cns_fresh(t->inst, &c, flags, text, (int)len, collect);
}

/* ---- sieving: only the words a search wants ------------------------- */

typedef struct sieve_ctx {
  tok_ctx *t;
  collect_ctx c;
  const unsigned char *keep;
  size_t off;     /* where the text being tokenized starts */
  int start, end; /* where the word being stemmed is */
} sieve_ctx;

static int sieve_stemmed(void *arg, int tflags, const char *t, int n,
                         int start, int end) {
  sieve_ctx *v = arg;
  append(v->c.l, t, n, v->start, v->end, v->c.pos);
  return SQLITE_OK;
}

static int sieve_word(void *arg, int tflags, const char *t, int n, int start,
                      int end) {
  sieve_ctx *v = arg;
  if (!(tflags & FTS5_TOKEN_COLOCATED)) v->c.pos++;
  if (n <= 0 || !v->keep[(unsigned char)t[0]]) return SQLITE_OK;
  v->start = (int)v->off + start;
  v->end = (int)v->off + end;
  return v->t->stem_api.xTokenize(v->t->stem, v, FTS5_TOKENIZE_DOCUMENT, t, n,
                                  sieve_stemmed);
}

static int sieve_span(sieve_ctx *v, const char *text, size_t s, size_t e) {
  v->off = s;
  return v->t->base_api.xTokenize(v->t->base, v, FTS5_TOKENIZE_DOCUMENT,
                                  text + s, (int)(e - s), sieve_word);
}

/* The offset of a's rarest byte in English text, which the scan for a
** looks for (the first of equals). */
static size_t rarest(const char *a, size_t n) {
  static const char common[] = "etaoinshrdlcumwfgypbvkjxqz"; /* most first */
  size_t best = 0;
  int most = -1;
  for (size_t i = 0; i < n; i++) {
    const char *c = strchr(common, a[i]);
    int r = c && a[i] ? (int)(c - common) : (int)sizeof common;
    if (r > most) most = r, best = i;
  }
  return best;
}

/* Anchors.  A word's stem keeps the word's own beginning: porter rewrites
** only the last letters, and what it writes in their place ("sensibility"
** -> "sensibl", "filing" -> "file") differs from the folded word in the
** stem's last two bytes at most (FTS5's porter: at most the last one, on
** five million words made from English ones and every suffix its rules
** name; two leaves a margin).  So a token whose stem is w (or, for a
** prefix, starts with w) is, in the text, a run of bytes that starts with
** w less its last two bytes -- ASCII case aside -- unless it holds a byte
** that is not ASCII, which may fold to anything ("Pr\xc3\xa9cis").  That
** prefix is w's anchor, when it is two bytes or more.  A phrase needs one
** anchor, its longest; its other tokens lie within reach (its length less
** one) of it.
**
** With an anchor for every wanted word, tok_sieve() reads only stretches
** of text: around each anchor and each non-ASCII byte, the run of
** non-space bytes it is in, widened by reach runs that hold an ASCII
** letter or digit on each side.  Spaces always end a token, so a stretch
** cut at them tokenizes as it does inside the whole text, and a run with
** an ASCII letter or digit holds a token, so the widened stretch holds
** every token within reach.  Two stretches with no ASCII letter or digit
** between them are read as one (the text between may hold no token, and
** a phrase may then cross it); otherwise the skipped text held a token,
** so positions jump by one more there, and no phrase can cross.  The
** scan looks for an anchor by its rarest letter (its key), eight bytes at
** a time, and checks the whole anchor around each one it meets. */
void tok_want(tok_filter *f, const tok_list *word) {
  size_t best = 0, at = 0;
  for (size_t k = 0; k < word->n; k++) {
    const char *w = tok_text(word, k);
    size_t n = word->v[k].text_len, a = n >= 2 ? n - 2 : 0, i;
    f->keep[(unsigned char)w[0]] = 1;
    if (a > TOK_ANCHOR_MAX - 1) a = TOK_ANCHOR_MAX - 1;
    for (i = 0; i < a && (unsigned char)w[i] < 0x80 &&
                !(w[i] >= 'A' && w[i] <= 'Z');
         i++) {}
    if (i == a && a > best) best = a, at = k;
  }
  if ((int)word->n - 1 > f->reach) f->reach = (int)word->n - 1;
  if (best < 2 || f->nanchor == TOK_ANCHORS) {
    f->whole = 1;
    return;
  }
  char *a = f->anchor[f->nanchor];
  memcpy(a, tok_text(word, at), best);
  a[best] = 0;
  for (size_t i = 0; i < f->nanchor; i++)
    if (strcmp(f->anchor[i], a) == 0) return;
  size_t key = rarest(a, best);
  /* OR 0x20 must leave the key byte alone (block_may_hold()): so it does
  ** for a lowercase letter, a digit, '+' and '#', all a token holds */
  if ((a[key] | 0x20) != a[key]) {
    f->whole = 1;
    return;
  }
  f->key[f->nanchor] = key;
  f->alen[f->nanchor++] = best;
  f->scan[(unsigned char)a[key]] = 1;
  if (a[key] >= 'a' && a[key] <= 'z') f->scan[(unsigned char)a[key] - 32] = 1;
  for (int c = 0x80; c < 0x100; c++) f->scan[c] = 1;
}

/* Is the byte at p[at] part of an anchor (found by its key byte), or not
** ASCII? */
static int anchored(const tok_filter *f, const char *p, size_t at,
                    size_t len) {
  if ((unsigned char)p[at] >= 0x80) return 1;
  for (size_t i = 0; i < f->nanchor; i++) {
    size_t n = f->alen[i], k = 0, s = at - f->key[i];
    if (at < f->key[i] || n > len - s) continue;
    for (; k < n; k++) {
      unsigned char c = (unsigned char)p[s + k];
      if ((c >= 'A' && c <= 'Z' ? c + 32 : c) != (unsigned char)f->anchor[i][k])
        break;
    }
    if (k == n) return 1;
  }
  return 0;
}

/* Might one of the 8 bytes at p be an anchor's key byte, or not ASCII?
** OR 0x20 lowercases a letter (and leaves a key byte as it is:
** tok_want()), and a byte equal to c turns zero under XOR, which the
** classic has-a-zero-byte test finds. */
static int block_may_hold(const tok_filter *f, const char *p) {
  const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
  uint64_t x;
  memcpy(&x, p, 8);
  uint64_t hit = x & high, low = x | (ones * 0x20);
  for (size_t i = 0; i < f->nanchor; i++) {
    uint64_t y = low ^ (ones * (unsigned char)f->anchor[i][f->key[i]]);
    hit |= (y - ones) & ~y & high;
  }
  return hit != 0;
}

/* The next byte from at on that is in an anchor or is not ASCII, or len.
** An anchor is looked for by its rarest letter (tok_want()), eight bytes
** at a time where none of the keys can be. */
static size_t next_anchor(const tok_filter *f, const char *p, size_t at,
                          size_t len) {
  while (at < len) {
    while (len - at >= 8 && !block_may_hold(f, p + at)) at += 8;
    for (size_t end = len - at >= 8 ? at + 8 : len; at < end; at++)
      if (f->scan[(unsigned char)p[at]] && anchored(f, p, at, len)) return at;
  }
  return len;
}

/* The stretch [*s, *e) around the byte at: its run of non-space bytes,
** which ends at *run, widened by reach runs holding an ASCII letter or
** digit on each side, not going below floor. */
static void widen(const char *p, size_t len, size_t floor, int reach,
                  size_t at, size_t *s, size_t *e, size_t *run) {
  size_t a = at, b = at;
  while (a > floor && !cns_ascii_space((unsigned char)p[a - 1])) a--;
  while (b < len && !cns_ascii_space((unsigned char)p[b])) b++;
  *run = b;
  for (int n = 0; n < reach && a > floor;) {
    size_t r = a;
    while (r > floor && cns_ascii_space((unsigned char)p[r - 1])) r--;
    size_t q = r;
    while (q > floor && !cns_ascii_space((unsigned char)p[q - 1])) q--;
    for (size_t i = q; i < r; i++)
      if (cns_ascii_alnum((unsigned char)p[i])) { n++; break; }
    a = q;
  }
  for (int n = 0; n < reach && b < len;) {
    size_t q = b;
    while (q < len && cns_ascii_space((unsigned char)p[q])) q++;
    size_t r = q;
    while (r < len && !cns_ascii_space((unsigned char)p[r])) r++;
    for (size_t i = q; i < r; i++)
      if (cns_ascii_alnum((unsigned char)p[i])) { n++; break; }
    b = r;
  }
  *s = a;
  *e = b;
}

static int any_alnum(const char *p, size_t s, size_t e) {
  for (; s < e; s++)
    if (cns_ascii_alnum((unsigned char)p[s])) return 1;
  return 0;
}

int tok_sieve(tok_ctx *t, const char *text, size_t len, const tok_filter *f,
              tok_list *out) {
  int base = out->n ? out->v[out->n - 1].pos : 0;
  sieve_ctx v = {t, {out, base}, f->keep, 0, 0, 0};
  if (len > 0x7fffffff) return SQLITE_TOOBIG;
  if (f->whole || !f->nanchor) return sieve_span(&v, text, 0, len);
  size_t from = 0, ws = 0, we = 0, at;
  int open = 0, rc = SQLITE_OK;
  while (rc == SQLITE_OK && (at = next_anchor(f, text, from, len)) < len) {
    size_t s, e;
    /* the next anchor may lie in this one's widening: it widens too */
    widen(text, len, open ? we : 0, f->reach, at, &s, &e, &from);
    if (open && (s <= we || !any_alnum(text, we, s))) {
      if (e > we) we = e; /* one stretch with the last */
    } else {
      if (open) {
        rc = sieve_span(&v, text, ws, we);
        v.c.pos++; /* the skipped text held a token */
      }
      ws = s, we = e, open = 1;
    }
  }
  if (rc == SQLITE_OK && open) rc = sieve_span(&v, text, ws, we);
  return rc;
}

const char *tok_text(const tok_list *l, size_t i) {
  return l->pool.p + l->v[i].text_off;
}

void tok_list_free(tok_list *l) {
  free(l->v);
  buf_free(&l->pool);
  l->v = NULL;
  l->n = l->cap = 0;
}

/* ---- tapes: tokens recorded on one thread, replayed on another ------ */

/* A token on a tape: varint (n << 1 | colocated), its n bytes, varint
** start, varint end.  Varints are LEB128: 7 bits a byte, low first. */
static size_t put_varint(unsigned char *p, unsigned long long v) {
  size_t i = 0;
  while (v >= 0x80) {
    p[i++] = (unsigned char)(v | 0x80);
    v >>= 7;
  }
  p[i++] = (unsigned char)v;
  return i;
}

static const unsigned char *get_varint(const unsigned char *p,
                                       const unsigned char *end,
                                       unsigned long long *v) {
  unsigned long long x = 0;
  for (int shift = 0; p < end && shift < 64; shift += 7) {
    x |= (unsigned long long)(*p & 0x7f) << shift;
    if (!(*p++ & 0x80)) {
      *v = x;
      return p;
    }
  }
  return NULL;
}

static int record_cb(void *arg, int tflags, const char *t, int n, int start,
                     int end) {
  buf *b = arg;
  unsigned char head[30];
  size_t k = put_varint(head, (unsigned long long)n << 1 |
                                  ((tflags & FTS5_TOKEN_COLOCATED) != 0));
  buf_add(b, head, k);
  buf_add(b, t, (size_t)n);
  k = put_varint(head, (unsigned)start);
  k += put_varint(head + k, (unsigned)end);
  buf_add(b, head, k);
  return SQLITE_OK;
}

int tok_record(tok_ctx *t, const char *text, size_t len, tok_tape *tape) {
  if (tape->n == TOK_TAPE_TEXTS) return SQLITE_FULL;
  if (len > 0x7fffffff) return SQLITE_TOOBIG;
  size_t off = tape->b.len;
  int rc = cns_fresh(t->inst, &tape->b, FTS5_TOKENIZE_DOCUMENT, text,
                     (int)len, record_cb);
  if (rc != SQLITE_OK) {
    tape->b.len = off; /* as if never recorded: that text is tokenized */
    return rc;
  }
  tape->v[tape->n++] = (tok_taped){text, len, off, tape->b.len};
  return SQLITE_OK;
}

size_t tok_tape_bytes(const tok_tape *tape) { return tape->b.cap; }

void tok_tape_free(tok_tape *tape) {
  buf_free(&tape->b);
  memset(tape, 0, sizeof *tape);
}

tok_replay *tok_replay_of(sqlite3 *db) {
  fts5_api *api = tok_fts5_api(db);
  fts5_tokenizer t;
  void *ud = NULL;
  if (!api || api->xFindTokenizer(api, "cns", &ud, &t) != SQLITE_OK)
    return NULL;
  return ud;
}

void tok_replay_arm(tok_replay *r, const tok_tape *tape) { r->armed = tape; }

/* Hand FTS5 the tokens recorded for text, if the tape holds text; 0 when
** it does not (the caller tokenizes), else 1 with the callback's code in
** *rc. */
static int replay(const tok_tape *tape, const char *text, int n, void *ctx,
                  tok_cb xToken, int *rc) {
  const tok_taped *k = NULL;
  for (size_t i = 0; i < tape->n && !k; i++)
    if (tape->v[i].len == (size_t)n &&
        (n == 0 || tape->v[i].text == text ||
         !memcmp(tape->v[i].text, text, (size_t)n)))
      k = &tape->v[i];
  if (!k) return 0;
  *rc = SQLITE_OK;
  if (k->off == k->end) return 1; /* no tokens (and b.p may be NULL) */
  const unsigned char *p = (const unsigned char *)tape->b.p + k->off;
  const unsigned char *end = (const unsigned char *)tape->b.p + k->end;
  while (*rc == SQLITE_OK && p < end) {
    unsigned long long head, start, stop;
    p = get_varint(p, end, &head);
    if (!p || (size_t)(end - p) < head >> 1) return *rc = SQLITE_CORRUPT, 1;
    const char *t = (const char *)p;
    p += head >> 1;
    if (!(p = get_varint(p, end, &start)) || !(p = get_varint(p, end, &stop)))
      return *rc = SQLITE_CORRUPT, 1;
    *rc = xToken(ctx, head & 1 ? FTS5_TOKEN_COLOCATED : 0, t, (int)(head >> 1),
                 (int)start, (int)stop);
  }
  return 1;
}
