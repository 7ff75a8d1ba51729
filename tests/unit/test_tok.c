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

/* Pieces that random texts are made of: folding, stems, marks, spaces. */
static const char *piece[] = {
    "paper", "Papers", "APPLE", "apply", "\xc3\xa9t\xc3\xa9", "\xc3\x89" "cole",
    "\xc3\x9c" "ber", "c++", "C#", "x+y", "+p", "#a", "3.5", "7B-class",
    "e-mail", "a_b", "(paper)", "foo/paper", "\xc2\xa0", " ", "  ", "\t",
    "\n", "\r\n", "\f", ".", ",", "-", "happy", "happiness", "ran",
    "mixed", "Precision", "Pr\xc3\xa9" "cision", "imprecise", "PRECISELY",
    "makes", "it", "formatting", "ma", "sensibility", "filing", "Files",
    "---", "**", "\xe2\x80\x94", "don\xe2\x80\x99t"};
static const size_t np = sizeof piece / sizeof *piece;

/* A text of min to min+span-1 random pieces, from *seed. */
static void random_text(unsigned *seed, int min, int span, buf *text) {
  int n = min + (int)((*seed = *seed * 1103515245u + 12345u) >> 16) % span;
  for (int i = 0; i < n; i++) {
    *seed = *seed * 1103515245u + 12345u;
    buf_adds(text, piece[(*seed >> 16) % np]);
  }
}

static void test_sieve(void) {
  static const char *keeps[] = {"p", "a", "e", "c", "3", "u", "h", "x", "pa"};
  tok_ctx *t;
  CHECK_INT(tok_open(db, &t), SQLITE_OK);
  unsigned seed = 12345;
  int bad = 0;
  for (int round = 0; round < 2000; round++) {
    buf text = BUF_INIT;
    random_text(&seed, 1, 40, &text);
    tok_list all = {0};
    tok_run(t, text.p, text.len, 0, &all);
    for (size_t k = 0; k < sizeof keeps / sizeof *keeps; k++) {
      tok_filter f = {0};
      for (const char *c = keeps[k]; *c; c++) f.keep[(unsigned char)*c] = 1;
      tok_list got = {0};
      if (tok_sieve(t, text.p, text.len, &f, &got) != SQLITE_OK ||
          !same_kept(&all, f.keep, &got))
        bad++;
      tok_list_free(&got);
    }
    tok_list_free(&all);
    buf_free(&text);
  }
  CHECK_INT(bad, 0);
  tok_close(t);
}

/* Where the words of w are found in doc, as search.c finds them: each
** token of a phrase at the position after the last, the last one only
** a prefix for a prefix word.  Appends (start, end) pairs to *out. */
static void find_word(const tok_list *doc, const tok_list *w, int prefix,
                      buf *out) {
  for (size_t i = 0; i < doc->n; i++) {
    size_t at = i, k = 0;
    for (; k < w->n; k++) {
      int last = prefix && k + 1 == w->n, found = 0;
      size_t n = w->v[k].text_len;
      for (size_t j = at; j < doc->n && doc->v[j].pos <= doc->v[i].pos + (int)k; j++)
        if (doc->v[j].pos == doc->v[i].pos + (int)k &&
            (last ? doc->v[j].text_len >= n : doc->v[j].text_len == n) &&
            memcmp(tok_text(doc, j), tok_text(w, k), n) == 0) {
          at = j;
          found = 1;
          break;
        }
      if (!found) break;
    }
    if (k == w->n) buf_addf(out, "%zu-%zu ", doc->v[i].start, doc->v[at].end);
  }
}

/* tok_sieve()'s tokens are some of tok_run()'s, in order, at the same
** places, and their positions keep tok_run()'s distances, except that two
** tokens with skipped text between them may be further apart -- but never
** less than 2 when they were 2 or more apart: no phrase may cross it. */
static int positions_keep(const tok_list *all, const tok_list *got) {
  size_t k = 0;
  int prev = 0;
  for (size_t i = 0; i < got->n; i++, k++) {
    while (k < all->n && (all->v[k].start != got->v[i].start ||
                          all->v[k].end != got->v[i].end ||
                          strcmp(tok_text(all, k), tok_text(got, i)) != 0))
      k++;
    if (k == all->n) return 0;
    int d = i ? got->v[i].pos - got->v[i - 1].pos : 0;
    int t = i ? all->v[k].pos - prev : 0;
    if (d != t && (d < 2 || t < 2)) return 0;
    prev = all->v[k].pos;
  }
  return 1;
}

/* Mostly ASCII prose, as notes are, with a piece of every kind now and
** then: a text of 1 to 300 words and spaces. */
static void prose_text(unsigned *seed, buf *text) {
  static const char *word[] = {"paper", "mixed", "precision", "makes", "it",
                               "formatting", "the", "file", "of", "a", "ma",
                               "Papers", "x", "y", "--", "**"};
  static const char *gap[] = {" ", " ", " ", "\n", "  ", "\n\n", "\t", " - "};
  int n = 1 + (int)((*seed = *seed * 1103515245u + 12345u) >> 16) % 300;
  for (int i = 0; i < n; i++) {
    *seed = *seed * 1103515245u + 12345u;
    unsigned r = *seed >> 16;
    buf_adds(text, r % 16 == 0 ? piece[(r >> 4) % np]
                               : word[(r >> 4) % (sizeof word / sizeof *word)]);
    buf_adds(text, gap[(r >> 9) % (sizeof gap / sizeof *gap)]);
  }
}

/* With anchors (tok_want), tok_sieve() reads only stretches of the text,
** and every word, phrase and prefix must still be found exactly where
** the whole text's tokens find it. */
static void test_sieve_anchors(void) {
  static const struct { const char *q; int prefix; } want[] = {
      {"paper", 0}, {"happiness", 0}, {"precision", 0}, {"mixed precision", 0},
      {"makes it", 0}, {"it makes", 0}, {"precis", 1}, {"pap", 1},
      {"file", 0}, {"sensibl", 1}, {"c++", 0}, {"x y", 0}, {"e-mail", 0},
      {"7B-class", 0}, {"\xc3\xa9t\xc3\xa9", 0}, {"ecole", 0}, {"apply", 0},
      {"formatting makes it", 0}, {"ma", 1}, {"dont", 0}, {"don t", 0}};
  size_t nw = sizeof want / sizeof *want;
  tok_ctx *t;
  CHECK_INT(tok_open(db, &t), SQLITE_OK);
  unsigned seed = 777;
  int bad = 0, skipped = 0, matched = 0;
  for (int round = 0; round < 3000; round++) {
    buf text = BUF_INIT;
    if (round % 2) random_text(&seed, 1, 120, &text);
    else prose_text(&seed, &text);
    tok_list all = {0}, words[3] = {{0}};
    int pre[3];
    tok_filter f = {0};
    tok_run(t, text.p, text.len, 0, &all);
    size_t nq = 1 + (seed >> 8) % 3;
    for (size_t q = 0; q < nq; q++) {
      seed = seed * 1103515245u + 12345u;
      size_t k = (seed >> 16) % nw;
      tok_run(t, want[k].q, strlen(want[k].q), 1, &words[q]);
      pre[q] = want[k].prefix;
      tok_want(&f, &words[q]);
    }
    tok_list got = {0};
    buf expect = BUF_INIT, found = BUF_INIT;
    CHECK_INT(tok_sieve(t, text.p, text.len, &f, &got), SQLITE_OK);
    for (size_t q = 0; q < nq; q++) {
      find_word(&all, &words[q], pre[q], &expect);
      find_word(&got, &words[q], pre[q], &found);
      buf_addc(&expect, '|');
      buf_addc(&found, '|');
    }
    if (strcmp(buf_str(&expect), buf_str(&found)) != 0 ||
        !positions_keep(&all, &got))
      bad++;
    if (strchr(buf_str(&expect), '-')) matched++;
    tok_filter fw = f;
    tok_list every = {0};
    fw.whole = 1;
    CHECK_INT(tok_sieve(t, text.p, text.len, &fw, &every), SQLITE_OK);
    if (got.n < every.n) skipped++;
    tok_list_free(&every);
    for (size_t q = 0; q < nq; q++) tok_list_free(&words[q]);
    tok_list_free(&got);
    tok_list_free(&all);
    buf_free(&expect);
    buf_free(&found);
    buf_free(&text);
  }
  CHECK_INT(bad, 0);
  CHECK(matched > 1000); /* the words were there to find */
  CHECK(skipped > 300);  /* the anchors did leave text out */
  tok_close(t);
}

/* Rows of FTS5 table a whose instances (term, doc, col, offset) are not
** in b's, plus the same the other way round, plus 0 if a has none. */
static int instances_differ(const char *a, const char *b) {
  char *sql = cns_xasprintf(
      "CREATE VIRTUAL TABLE temp.va USING fts5vocab(main, %s, instance);"
      "CREATE VIRTUAL TABLE temp.vb USING fts5vocab(main, %s, instance);",
      a, b);
  CHECK_INT(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
  free(sql);
  sqlite3_stmt *st;
  int n = -1;
  CHECK_INT(sqlite3_prepare_v2(
                db,
                "SELECT (SELECT count(*) FROM (SELECT * FROM va EXCEPT "
                "SELECT * FROM vb)) + (SELECT count(*) FROM (SELECT * FROM vb "
                "EXCEPT SELECT * FROM va)) + ((SELECT count(*) FROM va) = 0)",
                -1, &st, NULL),
            SQLITE_OK);
  if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  CHECK_INT(sqlite3_exec(db, "DROP TABLE temp.va; DROP TABLE temp.vb", NULL,
                         NULL, NULL),
            SQLITE_OK);
  return n;
}

/* Insert text into FTS5 table `table`, column c of (a, b, c, d), with tape
** armed (NULL: none). */
static void insert_armed(const char *table, int c, const char *text,
                         const tok_tape *tape) {
  char *sql = cns_xasprintf("INSERT INTO %s(%c) VALUES(?)", table, 'a' + c);
  sqlite3_stmt *st;
  CHECK_INT(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
  free(sql);
  sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
  tok_replay *r = tok_replay_of(db);
  CHECK(r != NULL);
  if (r) tok_replay_arm(r, tape);
  CHECK_INT(sqlite3_step(st), SQLITE_DONE);
  if (r) tok_replay_arm(r, NULL);
  sqlite3_finalize(st);
}

/* Tapes: FTS5 fed recorded tokens indexes exactly what it indexes when it
** tokenizes itself, and the tape is really what it takes. */
static void test_tape(void) {
  unsigned seed = 777;
  int taped = 0; /* texts recorded */
  CHECK_INT(sqlite3_exec(db,
                         "CREATE VIRTUAL TABLE ta USING fts5(a, b, c, d, "
                         "tokenize='cns');"
                         "CREATE VIRTUAL TABLE tb USING fts5(a, b, c, d, "
                         "tokenize='cns');",
                         NULL, NULL, NULL),
            SQLITE_OK);
  tok_ctx *t;
  CHECK_INT(tok_open(db, &t), SQLITE_OK);
  for (int row = 0; row < 300; row++) {
    buf text = BUF_INIT;
    random_text(&seed, 0, 60, &text);
    const char *s = text.p ? text.p : "";
    tok_tape tape = {0};
    taped += tok_record(t, s, text.len, &tape) == SQLITE_OK;
    insert_armed("ta", row % 4, s, &tape); /* replayed */
    insert_armed("tb", row % 4, s, NULL);  /* tokenized by FTS5 */
    tok_tape_free(&tape);
    buf_free(&text);
  }
  CHECK_INT(taped, 300);
  CHECK_INT(instances_differ("ta", "tb"), 0);

  /* A tape of one text, claiming to be another: FTS5 takes the tokens
  ** from the tape (so the check above compared replayed tokens), and a
  ** text the tape does not hold is tokenized afresh. */
  static const char said[] = "zebra quagga", other[] = "okapi tapir";
  tok_tape tape = {0};
  CHECK_INT(tok_record(t, said, strlen(said), &tape), SQLITE_OK);
  tape.v[0].text = other;
  tape.v[0].len = strlen(other);
  insert_armed("ta", 0, other, &tape);
  CHECK_INT(check_sql_int(db, "SELECT count(*) FROM ta WHERE ta MATCH 'zebra'"), 1);
  CHECK_INT(check_sql_int(db, "SELECT count(*) FROM ta WHERE ta MATCH 'okapi'"), 0);
  insert_armed("ta", 0, "gnu dingo", &tape);
  CHECK_INT(check_sql_int(db, "SELECT count(*) FROM ta WHERE ta MATCH 'dingo'"), 1);
  /* a query is never taken from a tape, even one holding its text */
  tok_replay *r = tok_replay_of(db);
  if (r) tok_replay_arm(r, &tape);
  CHECK_INT(check_sql_int(db, "SELECT count(*) FROM ta WHERE ta MATCH "
                        "'\"okapi tapir\"'"),
            0);
  if (r) tok_replay_arm(r, NULL);
  tok_tape_free(&tape);

  /* a full tape refuses a fifth text and keeps the four */
  for (int i = 0; i < TOK_TAPE_TEXTS; i++)
    CHECK_INT(tok_record(t, said, strlen(said), &tape), SQLITE_OK);
  size_t len = tape.b.len;
  CHECK(tok_record(t, said, strlen(said), &tape) != SQLITE_OK);
  CHECK(tape.n == TOK_TAPE_TEXTS && tape.b.len == len);
  tok_tape_free(&tape);
  tok_close(t);
}

int main(void) {
  setup();
  test_forms();
  test_offsets();
  test_findable();
  test_sieve();
  test_sieve_anchors();
  test_tape();
  sqlite3_close(db);
  return check_done("test_tok");
}
