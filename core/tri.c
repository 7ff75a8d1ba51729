/*
** tri.c -- the regex index's tokenizer: FTS5's trigram, each trigram once.
**
** The regex index (note_tri in store.c) is detail='none': for each
** trigram it keeps the notes that hold it, and nothing about how often or
** where.  Yet FTS5's trigram tokenizer hands the index every trigram of
** the text, and FTS5 looks each one up in its in-memory hash before it
** finds the note already there: a 180 KB note has 184,773 trigrams and
** 10,860 distinct ones, and the generated notes 2.5 trigrams for each
** distinct one.  That lookup was most of the cost of building the regex
** index and of re-indexing a large note once it exists (a delete hands
** FTS5 the old text's trigrams, the insert the new one's).
**
** "cnstri" is FTS5's "trigram" (its default options: case folded,
** diacritics kept) with the repeats left out when it tokenizes a document.
** A trigram of three ASCII word characters (the most of any note in a
** Latin script) is one bit of a 32 KB bitmap, 6 bits a character, which
** stays in the CPU's cache where a hash set of a large note's trigrams
** missed it at every probe; any other is kept in a small open-addressing
** set keyed by its bytes (at most three UTF-8 characters, so 12 bytes).
** A detail=none index built from the first occurrences is the same
** index, and a delete gives the same trigrams as the insert did, since
** the same text gives the same first occurrences.  Queries, and any token
** too long to key, pass through untouched.  `cnsearch check` indexes the
** notes afresh with the stock "trigram" and compares the two, term by
** term.
**
** It also leaves out every trigram that holds a space or an ASCII
** punctuation or control character: only "word" trigrams are kept, made
** of letters, digits, '_' and any byte of a multi-byte UTF-8 character
** (tri_word).  Trigrams such as "e t" or "s, " are in nearly every note,
** so they narrow a search by almost nothing, yet they were half of the
** (trigram, note) pairs of the generated corpora and of the regex index's
** size.  The query side (regex.c) asks only for word trigrams, so a
** pattern's literal "mixture of" still asks for "mix" ... "ure", and not
** for "re ", "e o" or " of"; a literal with no word trigram at all scans
** every note, as a literal shorter than three characters always did.
** Case folding maps letters to letters, so a trigram is a word trigram
** folded or not, and the two sides agree.
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include "cnsint.h"

/* A trigram's bytes, little end first and zero-padded, with its length in
** the top byte; the all-zero key marks an empty slot (no token is
** empty). */
typedef struct tri_key {
  uint64_t w[2];
} tri_key;

#define TRI_KEY_MAX 15 /* bytes a key holds */
#define TRI_SET_MIN 1024
/* A tokenizer keeps its set's slots for the next note up to this many
** (1 MB); a larger one, made for one huge note, is freed after it. */
#define TRI_SET_KEEP 65536

typedef struct tri_set {
  tri_key *slot;
  size_t cap, n; /* cap a power of two, n < cap / 2 */
} tri_set;

/* MurmurHash3's 64-bit finalizer over the two words: every key bit
** reaches the low bits that pick the slot. */
static size_t key_hash(const tri_key *k) {
  uint64_t h = k->w[0] ^ (k->w[1] * 0x9e3779b97f4a7c15ULL);
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  return (size_t)(h ^ h >> 33);
}

static void set_grow(tri_set *s) {
  tri_set g = {cns_xcalloc(s->cap * 2, sizeof *g.slot), s->cap * 2, s->n};
  for (size_t i = 0; i < s->cap; i++) {
    if (!s->slot[i].w[0] && !s->slot[i].w[1]) continue;
    size_t j = key_hash(&s->slot[i]) & (g.cap - 1);
    while (g.slot[j].w[0] || g.slot[j].w[1]) j = (j + 1) & (g.cap - 1);
    g.slot[j] = s->slot[i];
  }
  free(s->slot);
  *s = g;
}

int tri_word(const char *t, size_t n) {
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)t[i];
    if (c < 0x80 && !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') &&
        !(c >= '0' && c <= '9') && c != '_')
      return 0;
  }
  return 1;
}

/* Add k; 1 if it was not there yet. */
static int set_add(tri_set *s, const tri_key *k) {
  size_t j = key_hash(k) & (s->cap - 1);
  for (;; j = (j + 1) & (s->cap - 1)) {
    tri_key *e = &s->slot[j];
    if (!e->w[0] && !e->w[1]) break;
    if (e->w[0] == k->w[0] && e->w[1] == k->w[1]) return 0;
  }
  s->slot[j] = *k;
  if (++s->n * 2 >= s->cap) set_grow(s);
  return 1;
}

/* The bitmap of ASCII word trigrams, and the set's slots, are kept from
** one document to the next: an update tokenizes a note twice (the old
** text for FTS5's delete, then the new), and fresh memory costs a page
** fault a page, which on a slow machine was 10% of re-indexing a 115 KB
** note's faults.  Each document clears only what the last one used. */
#define TRI_ASCII_WORDS (1u << 18 >> 6) /* 64^3 bits */

typedef struct tri_tok {
  fts5_tokenizer parent;
  Fts5Tokenizer *inst;
  uint64_t *ascii;   /* TRI_ASCII_WORDS words: the ASCII trigrams seen */
  uint32_t *touched; /* the words of ascii a document made nonzero */
  size_t ntouched, captouched;
  tri_key *kept;     /* slots left by the last document, or NULL */
  size_t nkept;
} tri_tok;

typedef struct tri_cb_ctx {
  void *ctx;
  int (*xToken)(void *, int, const char *, int, int, int);
  tri_tok *tok;
  tri_set seen;
} tri_cb_ctx;

/* An ASCII word character's 6-bit code, or -1. */
static int ascii_code(unsigned char c) {
  if ((unsigned)(c - '0') < 10u) return c - '0';
  if ((unsigned)(c - 'a') < 26u) return c - 'a' + 10;
  if ((unsigned)(c - 'A') < 26u) return c - 'A' + 36;
  return c == '_' ? 62 : -1;
}

/* Mark the ASCII trigram t; 1 if it was not marked yet. */
static int ascii_add(tri_tok *tk, int a, int b, int c) {
  unsigned bit = (unsigned)a << 12 | (unsigned)b << 6 | (unsigned)c;
  uint64_t *w = &tk->ascii[bit >> 6], m = 1ULL << (bit & 63);
  if (*w & m) return 0;
  if (!*w) {
    if (tk->ntouched == tk->captouched) {
      tk->captouched = tk->captouched ? tk->captouched * 2 : 256;
      tk->touched = cns_xrealloc(tk->touched,
                                 tk->captouched * sizeof *tk->touched);
    }
    tk->touched[tk->ntouched++] = bit >> 6;
  }
  *w |= m;
  return 1;
}

static int first_only(void *arg, int tflags, const char *t, int n, int start,
                      int end) {
  tri_cb_ctx *c = arg;
  if (n == 3) {
    int a = ascii_code((unsigned char)t[0]);
    int b = ascii_code((unsigned char)t[1]);
    int d = ascii_code((unsigned char)t[2]);
    if ((a | b | d) >= 0) {
      if (!ascii_add(c->tok, a, b, d)) return SQLITE_OK;
      return c->xToken(c->ctx, tflags, t, n, start, end);
    }
  }
  if (n > 0 && !tri_word(t, (size_t)n)) return SQLITE_OK;
  if (n > 0 && n <= TRI_KEY_MAX) {
    /* built in registers: a byte copy read back as words stalls */
    tri_key k = {{0, (uint64_t)n << 56}};
    for (int i = 0; i < n; i++)
      k.w[i >> 3] |= (uint64_t)(unsigned char)t[i] << ((i & 7) * 8);
    if (!set_add(&c->seen, &k)) return SQLITE_OK;
  }
  return c->xToken(c->ctx, tflags, t, n, start, end);
}

static int tri_create(void *ud, const char **argv, int argc,
                      Fts5Tokenizer **out) {
  fts5_api *api = ud;
  tri_tok *t = cns_xcalloc(1, sizeof *t);
  int rc = tok_make(api, "trigram", argv, argc, &t->parent, &t->inst);
  if (rc != SQLITE_OK) {
    free(t);
    return rc;
  }
  t->ascii = cns_xcalloc(TRI_ASCII_WORDS, sizeof *t->ascii);
  *out = (Fts5Tokenizer *)t;
  return SQLITE_OK;
}

static void tri_delete(Fts5Tokenizer *p) {
  tri_tok *t = (tri_tok *)p;
  if (t) {
    t->parent.xDelete(t->inst);
    free(t->ascii);
    free(t->touched);
    free(t->kept);
  }
  free(t);
}

static int tri_tokenize(Fts5Tokenizer *p, void *ctx, int flags,
                        const char *text, int n,
                        int (*xToken)(void *, int, const char *, int, int,
                                      int)) {
  tri_tok *t = (tri_tok *)p;
  if (flags != FTS5_TOKENIZE_DOCUMENT)
    return t->parent.xTokenize(t->inst, ctx, flags, text, n, xToken);
  for (size_t i = 0; i < t->ntouched; i++) t->ascii[t->touched[i]] = 0;
  t->ntouched = 0;
  /* the set holds the trigrams that are not ASCII: it starts small; kept
  ** slots are used as they are, up to as many as n bytes can half fill */
  tri_cb_ctx c = {ctx, xToken, t, {t->kept, TRI_SET_MIN, 0}};
  if (t->nkept >= TRI_SET_MIN) {
    while (c.seen.cap < (size_t)n / 2 && c.seen.cap < t->nkept)
      c.seen.cap *= 2;
    memset(t->kept, 0, c.seen.cap * sizeof *t->kept);
  } else {
    free(t->kept);
    c.seen.slot = cns_xcalloc(TRI_SET_MIN, sizeof(tri_key));
  }
  t->kept = NULL;
  t->nkept = 0;
  int rc = t->parent.xTokenize(t->inst, &c, flags, text, n, first_only);
  if (c.seen.cap <= TRI_SET_KEEP) {
    t->kept = c.seen.slot;
    t->nkept = c.seen.cap;
  } else {
    free(c.seen.slot);
  }
  return rc;
}

/* SQL tri_word(term): 1 for a trigram cnstri keeps (check compares the
** stock trigram's terms that pass it). */
static void tri_word_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  const char *t = (const char *)sqlite3_value_text(argv[0]);
  if (!t && sqlite3_value_type(argv[0]) != SQLITE_NULL) {
    sqlite3_result_error_nomem(ctx);
    return;
  }
  sqlite3_result_int(
      ctx, t ? tri_word(t, (size_t)sqlite3_value_bytes(argv[0])) : 0);
}

int tri_register(sqlite3 *db) {
  fts5_api *api = tok_fts5_api(db);
  if (!api) return SQLITE_ERROR;
  fts5_tokenizer tri = {tri_create, tri_delete, tri_tokenize};
  int rc = api->xCreateTokenizer(api, "cnstri", api, &tri, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_create_function(
        db, "tri_word", 1,
        SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
        tri_word_fn, NULL, NULL);
  return rc;
}
