/*
** test_print.c -- every printer's exact bytes for crafted hits.
**
** Each printer runs begin/hit.../end with stdout's file descriptor
** pointed at a temporary file (dup2, so the stdout FILE and its buffer
** stay the same one the printers set up), and the captured bytes are
** compared with the expected output byte for byte, NULs included.  The
** hits carry the awkward cases: control bytes in paths, titles and
** snippets, quotes and backslashes, every kind of invalid UTF-8, match
** ranges out of order or out of range, a score that is not a number.
** JSON output is also fed to Python's json module, which must accept
** every line and find each match range inside its snippet.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cnsint.h"
#include "check.h"

/* print.c's helpers (see the note in print.c). */

#define ROOT "/home/ana/notes"

/* Run hits[0..n) through p with stdout captured; returns the bytes
** (caller frees) and their count in *len. */
static char *capture(printer *p, const cns_hit *hits, size_t n, size_t *len) {
  FILE *tmp = tmpfile();
  int saved = dup(1);
  fflush(stdout);
  dup2(fileno(tmp), 1);
  p->begin(p);
  for (size_t k = 0; k < n; k++) p->hit(p, &hits[k]);
  p->end(p);
  fflush(stdout);
  dup2(saved, 1);
  close(saved);
  fseek(tmp, 0, SEEK_END);
  *len = (size_t)ftell(tmp);
  char *out = cns_xmalloc(*len + 1);
  fseek(tmp, 0, SEEK_SET);
  *len = fread(out, 1, *len, tmp);
  out[*len] = 0;
  fclose(tmp);
  return out;
}

static void show(const char *what, const char *s, size_t n) {
  fprintf(stderr, "  %s: \"", what);
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '\n') fputs("\\n", stderr);
    else if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
      fprintf(stderr, "\\x%02x", c);
    else fputc(c, stderr);
  }
  fputs("\"\n", stderr);
}

/* CHECK for byte strings that may hold NULs; want is a string literal. */
#define CHECK_OUT(got, glen, want) \
  check_out(__FILE__, __LINE__, got, glen, want, sizeof(want) - 1)

static void check_out(const char *file, int line, const char *got,
                      size_t glen, const char *want, size_t wlen) {
  if (glen == wlen && memcmp(got, want, wlen) == 0) { check_passed++; return; }
  check_failed++;
  fprintf(stderr, "%s:%d: FAIL: output differs\n", file, line);
  show("got ", got, glen);
  show("want", want, wlen);
}

/* Run p over hits, compare with want, free everything. */
#define RUN(p, hits, want) do {                                   \
    printer *p_ = (p);                                            \
    size_t len_;                                                  \
    char *out_ = capture(p_, hits, sizeof(hits) / sizeof *(hits), &len_); \
    CHECK_OUT(out_, len_, want);                                  \
    free(out_);                                                   \
    p_->free(p_);                                                 \
  } while (0)

static printer *setup(printer *p, int color, int null_sep) {
  p->root = ROOT;
  p->cwd = ROOT;
  p->color = color;
  p->null_sep = null_sep;
  return p;
}

/* ------------------------------------------------------------ print_path */

static void path_is(const char *root, const char *cwd, int absolute,
                    const char *rel, const char *want, int line) {
  printer p = {0};
  p.root = root;
  p.cwd = cwd;
  p.absolute = absolute;
  char *got = print_path(&p, rel);
  if (strcmp(got, want) == 0) check_passed++;
  else {
    check_failed++;
    fprintf(stderr, "%s:%d: FAIL: print_path \"%s\", want \"%s\"\n",
            __FILE__, line, got, want);
  }
  free(got);
}

#define PATH_IS(root, cwd, abs, rel, want) \
  path_is(root, cwd, abs, rel, want, __LINE__)

static void test_print_path(void) {
  PATH_IS(ROOT, "/home/ana", 0, "papers/x.md", "notes/papers/x.md");
  PATH_IS(ROOT, ROOT, 0, "papers/x.md", "papers/x.md");
  PATH_IS(ROOT, ROOT "/papers", 0, "papers/x.md", "x.md");
  PATH_IS(ROOT, "/home/ana/", 0, "papers/x.md", "notes/papers/x.md");
  PATH_IS(ROOT, "/", 0, "x.md", "home/ana/notes/x.md");
  PATH_IS(ROOT, ROOT "/pap", 0, "papers/x.md", ROOT "/papers/x.md");
  PATH_IS(ROOT, "/home/an", 0, "x.md", ROOT "/x.md");
  PATH_IS(ROOT, "/tmp", 0, "papers/x.md", ROOT "/papers/x.md");
  PATH_IS(ROOT, ROOT "/x.md", 0, "x.md", ROOT "/x.md");
  PATH_IS(ROOT, ROOT, 1, "papers/x.md", ROOT "/papers/x.md");
  PATH_IS(ROOT, NULL, 0, "x.md", ROOT "/x.md");
  PATH_IS(ROOT, "relative", 0, "x.md", ROOT "/x.md");
  PATH_IS("/", "/tmp", 0, "x.md", "/x.md");
  PATH_IS("/", "/", 0, "x.md", "x.md");
  PATH_IS(ROOT "/", ROOT, 0, "x.md", "x.md");
  PATH_IS(NULL, "/tmp", 0, "papers/x.md", "papers/x.md");
}

/* ------------------------------------------------------------- vimgrep */

static const size_t marks_router[] = {4, 10};

static const cns_hit plain_hits[] = {
  {.path = "papers/moe.md", .title = "Mixture of Experts",
   .heading = "Routing › Top-k", .snippet = "the router picks top-k experts",
   .marks = marks_router, .nmarks = 1, .line = 12, .column = 5,
   .end_column = 11, .score = 3.25, .tier = 0},
  {.path = "odd\n\tname\x1b.md", .title = "T\x01itle", .heading = "",
   .snippet = "tab\there\x1b[31mred\x7f", .line = 3, .column = 1,
   .end_column = 4, .score = 1, .tier = 1},
};

static void test_vimgrep(void) {
  RUN(setup(print_vimgrep_new(), 0, 0), plain_hits,
      "papers/moe.md:12:5:the router picks top-k experts\n"
      "odd\\n\\tname\\x1b.md:3:1:tab here [31mred \n");
  RUN(setup(print_vimgrep_new(), 1, 0), plain_hits,     /* colour ignored */
      "papers/moe.md:12:5:the router picks top-k experts\n"
      "odd\\n\\tname\\x1b.md:3:1:tab here [31mred \n");
  RUN(setup(print_vimgrep_new(), 0, 1), plain_hits,
      "papers/moe.md\0" "12:5:the router picks top-k experts\n"
      "odd\n\tname\x1b.md\0" "3:1:tab here [31mred \n");
}

/* ---------------------------------------------------------------- human */

static const size_t marks_messy[] = {15, 20, 4, 10, 8, 12, 25, 999, 7, 7};
static const size_t marks_bad[] = {50, 60, 3, 1};

static const cns_hit human_hits[] = {
  {.path = "papers/moe.md", .title = "Mixture of Experts",
   .heading = "Routing › Top-k", .snippet = "the router picks top-k experts",
   .marks = marks_router, .nmarks = 1, .line = 12, .column = 5,
   .end_column = 11, .score = 3.25},
  {.path = "papers/moe.md", .title = "Mixture of Experts", .heading = "",
   .snippet = "the router picks top-k experts", .marks = marks_messy,
   .nmarks = 5, .line = 2, .column = 1, .end_column = 7, .score = 2,
   .via_url = "https://example.org/switch", .via_title = "Switch \x1b[2J",
   .explain = "bm25 2.0\ntier 0\n"},
  {.path = "systems/flash\nattn.md", .title = "Flash\tAttention",
   .heading = "", .snippet = "tiling keeps \x01 SRAM busy", .marks = marks_bad,
   .nmarks = 2, .line = 7, .column = 9, .end_column = 14, .score = 1,
   .via_url = "https://example.org/fa", .via_title = ""},
  {.path = "papers/moe.md", .title = "Mixture of Experts",
   .heading = "Load balancing", .snippet = "auxiliary loss", .line = 40,
   .column = 3, .end_column = 8, .score = 0.5, .explain = "x"},
};

static void test_human_plain(void) {
  RUN(setup(print_human_new(), 0, 0), human_hits,
      "papers/moe.md:12:5: Routing › Top-k: the router picks top-k experts\n"
      "papers/moe.md:2:1: Mixture of Experts: the router picks top-k experts"
      " (via https://example.org/switch)\n"
      "    bm25 2.0\n"
      "    tier 0\n"
      "systems/flash\\nattn.md:7:9: Flash Attention: tiling keeps   SRAM busy"
      " (via https://example.org/fa)\n"
      "papers/moe.md:40:3: Load balancing: auxiliary loss\n"
      "    x\n");
  RUN(setup(print_human_new(), 0, 1), plain_hits,
      "papers/moe.md\0" "12:5: Routing › Top-k: the router picks top-k experts\n"
      "odd\n\tname\x1b.md\0" "3:1: T itle: tab here [31mred \n");
}

#define P "\033[1;35m"
#define L "\033[32m"
#define H "\033[1;36m"
#define M "\033[1;31m"
#define R "\033[0m"

static void test_human_color(void) {
  RUN(setup(print_human_new(), 1, 0), human_hits,
      P "papers/moe.md" R "\n"
      L "12" R ":5  " H "Routing › Top-k" R "\n"
      "    the " M "router" R " picks top-k experts\n"
      L "2" R ":1  " H "Mixture of Experts" R "\n"
      "    the " M "router p" R "ick" M "s top" R "-k ex" M "perts" R "\n"
      "    via https://example.org/switch (Switch  [2J)\n"
      "    bm25 2.0\n"
      "    tier 0\n"
      "\n"
      P "systems/flash\\nattn.md" R "\n"
      L "7" R ":9  " H "Flash Attention" R "\n"
      "    tiling keeps   SRAM busy\n"
      "    via https://example.org/fa\n"
      "\n"
      P "papers/moe.md" R "\n"
      L "40" R ":3  " H "Load balancing" R "\n"
      "    auxiliary loss\n"
      "    x\n");
  RUN(setup(print_human_new(), 1, 1), plain_hits,
      P "papers/moe.md" R "\0\n"
      L "12" R ":5  " H "Routing › Top-k" R "\n"
      "    the " M "router" R " picks top-k experts\n"
      "\n"
      P "odd\n\tname\x1b.md" R "\0\n"
      L "3" R ":1  " H "T itle" R "\n"
      "    tab here [31mred \n");
}

/* ----------------------------------------------------------------- JSON */

static void json_is(const char *in, const char *want, int line) {
  buf b = BUF_INIT;
  print_add_json(&b, in);
  if (strcmp(buf_str(&b), want) == 0) check_passed++;
  else {
    check_failed++;
    fprintf(stderr, "%s:%d: FAIL: print_add_json\n", __FILE__, line);
    show("got ", buf_str(&b), b.len);
    show("want", want, strlen(want));
  }
  buf_free(&b);
}

#define JSON_IS(in, want) json_is(in, want, __LINE__)

static void test_json_strings(void) {
  JSON_IS(NULL, "null");
  JSON_IS("", "\"\"");
  JSON_IS("a\"b\\c/d", "\"a\\\"b\\\\c/d\"");
  JSON_IS("\n\t\r\b\f\x01\x1f\x7f", "\"\\n\\t\\r\\u0008\\u000c\\u0001\\u001f\\u007f\"");
  JSON_IS("é€😀", "\"é€😀\"");
  JSON_IS("\xE2\x80\xA8\xE2\x80\xA9", "\"\\u2028\\u2029\"");
  JSON_IS("\x80", "\"\\ufffd\"");                       /* lone continuation */
  JSON_IS("\xC0\xAF", "\"\\ufffd\\ufffd\"");            /* overlong '/' */
  JSON_IS("\xC1\xBF", "\"\\ufffd\\ufffd\"");            /* overlong */
  JSON_IS("\xE0\x80\xAF", "\"\\ufffd\\ufffd\\ufffd\""); /* overlong, 3 bytes */
  JSON_IS("\xF0\x80\x80\xAF", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
  JSON_IS("\xED\xA0\x80", "\"\\ufffd\\ufffd\\ufffd\"");  /* surrogate D800 */
  JSON_IS("\xED\x9F\xBF", "\"\xED\x9F\xBF\"");          /* U+D7FF is fine */
  JSON_IS("\xF4\x8F\xBF\xBF", "\"\xF4\x8F\xBF\xBF\"");  /* U+10FFFF is fine */
  JSON_IS("\xF4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* > 10FFFF */
  JSON_IS("\xF5\x80", "\"\\ufffd\\ufffd\"");
  JSON_IS("\xFF\xFE", "\"\\ufffd\\ufffd\"");
  JSON_IS("ok\xE2\x82", "\"ok\\ufffd\\ufffd\"");        /* cut at the end */
  JSON_IS("\xE2\x82" "A", "\"\\ufffd\\ufffdA\"");
  JSON_IS("\xC3" "é", "\"\\ufffdé\"");

  CHECK_INT(print_json_offset("abc", 2), 2);
  CHECK_INT(print_json_offset("abc", 99), 3);
  CHECK_INT(print_json_offset("\x80" "ab", 0), 0);
  CHECK_INT(print_json_offset("\x80" "ab", 1), 3);
  CHECK_INT(print_json_offset("\x80" "ab", 3), 5);
  CHECK_INT(print_json_offset("é\xFF" "x", 3), 5);
  CHECK_INT(print_json_offset("é\xFF" "x", 4), 6);
}

static const size_t marks_two[] = {4, 10, 17, 22};
static const size_t marks_shift[] = {1, 7, 5, 2, 8, 100};

static const cns_hit json_hits[] = {
  {.path = "papers/moe.md", .title = "Mixture of Experts",
   .heading = "Routing › Top-k", .snippet = "the router picks top-k experts",
   .marks = marks_two, .nmarks = 2, .date = "2024-03-18", .line = 12,
   .column = 5, .end_column = 11, .score = 3.25, .tier = 0},
  {.path = "inbox/\"q\"\n.md", .title = "Tab\there \"quoted\" \\",
   .heading = "A › B", .snippet = "\xffrouter\x01", .marks = marks_shift,
   .nmarks = 3, .line = 1, .column = 1, .end_column = 7, .score = NAN,
   .tier = 1, .via_url = "https://example.org/\xC0", .via_title = NULL,
   .via_text = "the \"paper\"",
   .explain = "bm25 1.5\ntier 1"},
  {.path = "x.md", .title = "", .heading = "", .snippet = "", .line = 3,
   .column = 2, .end_column = 2, .score = 1234567.0, .tier = 0,
   .via_url = "https://arxiv.org/abs/2205.14135",
   .via_title = "FlashAttention"},
};

static void json_valid(const char *out, size_t len) {
  static const char cmd[] =
      "python3 -c 'import json,sys\n"
      "for l in sys.stdin:\n"
      "  o = json.loads(l)\n"
      "  assert o[\"type\"] == \"hit\" and o[\"format_version\"] == 1\n"
      "  n = len(o[\"snippet\"].encode(\"utf-8\"))\n"
      "  assert all(0 <= s <= e <= n for s, e in o[\"matches\"])\n'";
  FILE *py = popen(cmd, "w");
  CHECK(py != NULL);
  if (!py) return;
  fwrite(out, 1, len, py);
  int st = pclose(py);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void test_json(void) {
  size_t len;
  printer *p = setup(print_json_new(), 1, 1);    /* colour, NUL: no effect */
  char *out = capture(p, json_hits, 3, &len);
  CHECK_OUT(out, len,
      "{\"type\":\"hit\",\"format_version\":1,\"path\":\"papers/moe.md\","
      "\"line\":12,\"column\":5,\"end_column\":11,"
      "\"title\":\"Mixture of Experts\",\"heading\":\"Routing › Top-k\","
      "\"score\":3.25,\"tier\":0,"
      "\"snippet\":\"the router picks top-k experts\","
      "\"matches\":[[4,10],[17,22]],\"date\":\"2024-03-18\",\"via\":null}\n"
      "{\"type\":\"hit\",\"format_version\":1,\"path\":\"inbox/\\\"q\\\"\\n.md\","
      "\"line\":1,\"column\":1,\"end_column\":7,"
      "\"title\":\"Tab\\there \\\"quoted\\\" \\\\\",\"heading\":\"A › B\","
      "\"score\":null,\"tier\":1,"
      "\"snippet\":\"\\ufffdrouter\\u0001\","
      "\"matches\":[[3,9],[7,7],[10,10]],\"date\":null,"
      "\"via\":{\"url\":\"https://example.org/\\ufffd\",\"title\":null,"
      "\"anchor\":\"the \\\"paper\\\"\"},"
      "\"explain\":\"bm25 1.5\\ntier 1\"}\n"
      "{\"type\":\"hit\",\"format_version\":1,\"path\":\"x.md\","
      "\"line\":3,\"column\":2,\"end_column\":2,\"title\":\"\",\"heading\":\"\","
      "\"score\":1.23457e+06,\"tier\":0,\"snippet\":\"\",\"matches\":[],"
      "\"date\":null,\"via\":{\"url\":\"https://arxiv.org/abs/2205.14135\","
      "\"title\":\"FlashAttention\",\"anchor\":null}}\n");
  json_valid(out, len);
  free(out);
  p->free(p);

  p = setup(print_json_new(), 0, 0);
  p->cwd = "/srv";
  out = capture(p, json_hits, 1, &len);
  CHECK(strstr(out, "\"path\":\"" ROOT "/papers/moe.md\"") != NULL);
  json_valid(out, len);
  free(out);
  p->free(p);

  p = setup(print_json_new(), 0, 0);               /* nothing for no hits */
  out = capture(p, json_hits, 0, &len);
  CHECK_INT(len, 0);
  free(out);
  p->free(p);
}

/* ------------------------------------------------------- files and count */

static const cns_hit list_hits[] = {
  {.path = "b.md"}, {.path = "a\nb.md"}, {.path = "b.md"}, {.path = "c.md"},
  {.path = "b.md"},
};

static void test_files(void) {
  RUN(setup(print_files_new(), 0, 0), list_hits, "b.md\na\\nb.md\nc.md\n");
  RUN(setup(print_files_new(), 0, 1), list_hits, "b.md\0a\nb.md\0c.md\0");
  RUN(setup(print_files_new(), 1, 0), list_hits,
      "\033[35mb.md" R "\n\033[35ma\\nb.md" R "\n\033[35mc.md" R "\n");
  printer *p = setup(print_files_new(), 0, 0);
  p->cwd = "/elsewhere";
  RUN(p, list_hits, ROOT "/b.md\n" ROOT "/a\\nb.md\n" ROOT "/c.md\n");
}

static void test_count(void) {
  RUN(setup(print_count_new(), 0, 0), list_hits,
      "b.md:3\na\\nb.md:1\nc.md:1\n");
  RUN(setup(print_count_new(), 0, 1), list_hits,
      "b.md\0" "3\na\nb.md\0" "1\nc.md\0" "1\n");
  RUN(setup(print_count_new(), 1, 0), list_hits,
      "\033[35mb.md" R ":3\n\033[35ma\\nb.md" R ":1\n\033[35mc.md" R ":1\n");
}

/* Enough distinct paths to make the path table grow several times. */
static void test_many_paths(void) {
  enum { N = 1000 };
  static cns_hit hits[3 * N];
  static char names[N][16];
  for (int k = 0; k < N; k++) snprintf(names[k], sizeof names[k], "n%d.md", k);
  for (int k = 0; k < 3 * N; k++) hits[k].path = names[(k * 7) % N];
  size_t len;
  printer *p = setup(print_count_new(), 0, 0);
  char *out = capture(p, hits, 3 * N, &len);
  size_t lines = 0, threes = 0;
  for (char *s = out; (s = strchr(s, '\n')); s++) lines++;
  for (char *s = out; (s = strstr(s, ":3\n")); s++) threes++;
  CHECK_INT(lines, N);
  CHECK_INT(threes, N);
  CHECK(strncmp(out, "n0.md:3\nn7.md:3\nn14.md:3\n", 25) == 0);
  free(out);
  p->free(p);

  p = setup(print_files_new(), 0, 0);
  out = capture(p, hits, 3 * N, &len);
  lines = 0;
  for (char *s = out; (s = strchr(s, '\n')); s++) lines++;
  CHECK_INT(lines, N);
  free(out);
  p->free(p);
}

int main(void) {
  test_print_path();
  test_vimgrep();
  test_human_plain();
  test_human_color();
  test_json_strings();
  test_json();
  test_files();
  test_count();
  test_many_paths();
  return check_done("test_print");
}
