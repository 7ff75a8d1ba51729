/*
** test_tok.c -- the tokenizer: case and diacritics folding, stemming, and
** technical tokens findable as typed, through a real FTS5 table.
*/
#include <stdlib.h>
#include <string.h>
#include "cnsint.h"
#include "check.h"

static sqlite3 *db;

static void setup(void) {
  CHECK_INT(sqlite3_open(":memory:", &db), SQLITE_OK);
  CHECK_INT(tok_register(db), SQLITE_OK);
  CHECK_INT(sqlite3_exec(db, "CREATE VIRTUAL TABLE t USING fts5(body, "
                             "tokenize='cns')", NULL, NULL, NULL),
            SQLITE_OK);
}

static void add(const char *text) {
  sqlite3_stmt *st;
  sqlite3_prepare_v2(db, "INSERT INTO t(body) VALUES(?)", -1, &st, NULL);
  sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
  CHECK_INT(sqlite3_step(st), SQLITE_DONE);
  sqlite3_finalize(st);
}

/* Number of rows an FTS5 phrase query (the text quoted) matches. */
static int hits(const char *words) {
  sqlite3_stmt *st;
  char *q = cns_xasprintf("\"%s\"", words);
  int n = -1;
  if (sqlite3_prepare_v2(db, "SELECT count(*) FROM t WHERE t MATCH ?", -1,
                         &st, NULL) == SQLITE_OK) {
    sqlite3_bind_text(st, 1, q, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
  }
  free(q);
  return n;
}

/* The tokens of text, space-separated, as tok_run gives them. */
static char *tokens(const char *text, int query) {
  tok_ctx *t;
  tok_list l = {0};
  buf out = BUF_INIT;
  CHECK_INT(tok_open(db, &t), SQLITE_OK);
  CHECK_INT(tok_run(t, text, strlen(text), query, &l), SQLITE_OK);
  for (size_t i = 0; i < l.n; i++) {
    if (i) buf_addc(&out, l.v[i].pos == l.v[i - 1].pos ? '|' : ' ');
    buf_adds(&out, tok_text(&l, i));
  }
  tok_list_free(&l);
  tok_close(t);
  return buf_detach(&out);
}

static void test_forms(void) {
  char *s;
  CHECK_STR(s = tokens("Routing TOKENS to Experts", 0), "rout token to expert");
  free(s);
  CHECK_STR(s = tokens("Pérez naïve café", 0), "perez naiv cafe");
  free(s);
  CHECK_STR(s = tokens("C++ and C# code", 0), "c++|c and c#|c code");
  free(s);
  CHECK_STR(s = tokens("C++", 1), "c++");
  free(s);
  CHECK_STR(s = tokens("GPT-3.5 7B-class v5e", 0), "gpt 3 5 7b class v5e");
  free(s);
  CHECK_STR(s = tokens("a+b #moe", 0), "a b moe");
  free(s);
}

static void test_offsets(void) {
  tok_ctx *t;
  tok_list l = {0};
  const char *text = "use **llama.cpp** and C++ now";
  CHECK_INT(tok_open(db, &t), SQLITE_OK);
  CHECK_INT(tok_run(t, text, strlen(text), 0, &l), SQLITE_OK);
  CHECK_INT(l.n, 7);
  CHECK_INT(l.v[1].start, 6); /* llama */
  CHECK_INT(l.v[2].start, 12); /* cpp */
  CHECK_INT(l.v[4].start, 22); /* c++ */
  CHECK_INT(l.v[4].end, 25);
  tok_list_free(&l);
  tok_close(t);
}

static void test_findable(void) {
  add("We trained GPT-3.5 style models in C++ with reduce-scatter on TPU v5e.");
  add("A 7B-class model, routed by MoE experts, on llama.cpp.");
  add("Plain C code and an e-mail from Pérez.");
  CHECK_INT(hits("GPT-3.5"), 1);
  CHECK_INT(hits("gpt"), 1);
  CHECK_INT(hits("C++"), 1);
  CHECK_INT(hits("c"), 2);       /* "C" and the bare form of "C++" */
  CHECK_INT(hits("reduce-scatter"), 1);
  CHECK_INT(hits("scatter"), 1);
  CHECK_INT(hits("v5e"), 1);
  CHECK_INT(hits("7B-class"), 1);
  CHECK_INT(hits("llama.cpp"), 1);
  CHECK_INT(hits("route"), 1);   /* stemming: routed */
  CHECK_INT(hits("expert"), 1);
  CHECK_INT(hits("MOE"), 1);
  CHECK_INT(hits("perez"), 1);   /* diacritics folded */
  CHECK_INT(hits("e-mail"), 1);
  CHECK_INT(hits("C#"), 0);
}

/* tok_sieve() keeps exactly the words tok_run() gives whose stem starts
** with a kept byte, at the same places and positions, on random text made
** of the pieces that matter: case, diacritics, '+'/'#', digits, every kind
** of space (and a no-break space), punctuation inside words. */
static int same_kept(const tok_list *all, const unsigned char *keep,
                     const tok_list *got) {
  size_t k = 0;
  for (size_t i = 0; i < all->n; i++) {
    if (!keep[(unsigned char)tok_text(all, i)[0]]) continue;
    if (k == got->n) return 0;
    const tok_token *a = &all->v[i], *g = &got->v[k];
    if (strcmp(tok_text(all, i), tok_text(got, k)) != 0 ||
        a->start != g->start || a->end != g->end ||
        a->pos != g->pos)
      return 0;
    k++;
  }
  return k == got->n;
}

static void test_sieve(void) {
  static const char *piece[] = {
      "paper", "Papers", "APPLE", "apply", "\xc3\xa9t\xc3\xa9", "\xc3\x89" "cole",
      "\xc3\x9c" "ber", "c++", "C#", "x+y", "+p", "#a", "3.5", "7B-class",
      "e-mail", "a_b", "(paper)", "foo/paper", "\xc2\xa0", " ", "  ", "\t",
      "\n", "\r\n", "\f", ".", ",", "-", "happy", "happiness", "ran"};
  const size_t np = sizeof piece / sizeof *piece;
  static const char *keeps[] = {"p", "a", "e", "c", "3", "u", "h", "x", "pa"};
  tok_ctx *t;
  CHECK_INT(tok_open(db, &t), SQLITE_OK);
  unsigned seed = 12345;
  int bad = 0;
  for (int round = 0; round < 2000; round++) {
    buf text = BUF_INIT;
    int n = 1 + (int)((seed = seed * 1103515245u + 12345u) >> 16) % 40;
    for (int i = 0; i < n; i++) {
      seed = seed * 1103515245u + 12345u;
      buf_adds(&text, piece[(seed >> 16) % np]);
    }
    tok_list all = {0};
    tok_run(t, text.p, text.len, 0, &all);
    for (size_t k = 0; k < sizeof keeps / sizeof *keeps; k++) {
      unsigned char keep[256] = {0};
      for (const char *c = keeps[k]; *c; c++) keep[(unsigned char)*c] = 1;
      tok_list got = {0};
      if (tok_sieve(t, text.p, text.len, keep, &got) != SQLITE_OK ||
          !same_kept(&all, keep, &got))
        bad++;
      tok_list_free(&got);
    }
    tok_list_free(&all);
    buf_free(&text);
  }
  CHECK_INT(bad, 0);
  tok_close(t);
}

int main(void) {
  setup();
  test_forms();
  test_offsets();
  test_findable();
  test_sieve();
  sqlite3_close(db);
  return check_done("test_tok");
}
