/*
** test_md.c -- unit tests for indexer/md.c: title, date and tag rules,
** sections and heading paths, line numbers across line-ending styles,
** links of every kind with exact positions, and hostile inputs (which
** must only return with the section invariants intact).
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "cnsint.h"
#include "check.h"

/* Naive line/column of off, to check md.c's line map against. */
static void naive_linecol(const char *t, size_t len, size_t off, long *line,
                          long *col) {
  long l = 1;
  size_t ls = 0;
  for (size_t i = 0; i < off && i < len; i++)
    if (t[i] == '\n' || (t[i] == '\r' && (i + 1 >= len || t[i + 1] != '\n'))) {
      l++;
      ls = i + 1;
    }
  *line = l;
  *col = (long)(off - ls) + 1;
}

/* The invariants every parse must keep, whatever the input. */
static void invariants(const char *t, size_t len, const md_note *n) {
  CHECK(n->title != NULL);
  CHECK(n->nsections >= 1);
  if (!n->nsections) return;
  CHECK_INT(n->sections[0].off, 0);
  size_t sum = 0;
  int ok = 1, lines_ok = 1, links_ok = 1;
  for (size_t i = 0; i < n->nsections; i++) {
    const md_section *s = &n->sections[i];
    sum += s->len;
    if (i + 1 < n->nsections && s->off + s->len != n->sections[i + 1].off) ok = 0;
    if (!s->heading || s->level < 0 || s->level > 6) ok = 0;
    if (i > 0 && (s->len == 0 || s->off < n->body_off)) ok = 0;
    if (len < 200000) {
      long line, col;
      naive_linecol(t, len, s->off, &line, &col);
      if (line != s->line) lines_ok = 0;
    }
  }
  CHECK(ok);
  CHECK(lines_ok);
  CHECK_INT(sum, len);
  CHECK(n->body_off <= len);
  for (size_t i = 0; i < n->nlinks; i++) {
    const md_link *l = &n->links[i];
    if (!l->url || !l->text || l->off >= len || l->section < 0 ||
        (size_t)l->section >= n->nsections) {
      links_ok = 0;
      break;
    }
    const md_section *s = &n->sections[l->section];
    if (l->off < s->off || l->off >= s->off + s->len) links_ok = 0;
    if (len < 200000) {
      long line, col;
      naive_linecol(t, len, l->off, &line, &col);
      if (line != l->line || col != l->col) links_ok = 0;
    }
  }
  CHECK(links_ok);
}

static md_note parse(const char *t, const char *fallback) {
  md_note n;
  CHECK_INT(md_note_parse(t, strlen(t), fallback, &n), CNS_OK);
  invariants(t, strlen(t), &n);
  return n;
}

static size_t off_of(const char *t, const char *needle) {
  const char *p = strstr(t, needle);
  CHECK(p != NULL);
  return p ? (size_t)(p - t) : SIZE_MAX;
}

/* ------------------------------------------------------------ title, date, tags */
static void test_front_matter(void) {
  const char *t =
      "---\n"
      "title: \"Serving LLMs at Scale\"\n"
      "date: 2024-05-13\n"
      "tags: [MLSys, inference, \"KV cache\"]\n"
      "---\n"
      "# An H1 that is not the title\n"
      "\n"
      "Continuous #Batching keeps GPUs busy; see #inference again.\n"
      "`#notatag` and C#sharp and http://x.org/#frag are not tags.\n"
      "\n"
      "```\n#alsonot a tag\n```\n";
  md_note n = parse(t, "fallback");
  CHECK_STR(n.title, "Serving LLMs at Scale");
  CHECK_STR(n.date, "2024-05-13");
  CHECK_STR(n.tags, "mlsys inference kv-cache batching");
  CHECK_INT(n.body_off, off_of(t, "# An H1"));
  CHECK_INT(n.nsections, 2);
  CHECK_INT(n.sections[0].len, n.body_off);
  CHECK_INT(n.sections[1].off, n.body_off);
  CHECK_INT(n.sections[1].line, 6);
  CHECK_STR(n.sections[1].heading, "An H1 that is not the title");
  md_note_free(&n);

  t = "---\r\n"
      "tags:\r\n"
      "  - Systems\r\n"
      "  - 'gpu'\r\n"
      "date: '2023-11-02'   \r\n"
      "...\r\n"
      "Roofline notes. #GPU #roofline\r\n";
  n = parse(t, "roofline");
  CHECK_STR(n.title, "roofline");
  CHECK_STR(n.date, "2023-11-02");
  CHECK_STR(n.tags, "systems gpu roofline");
  CHECK_INT(n.body_off, off_of(t, "Roofline notes"));
  md_note_free(&n);

  n = parse("---\ntags: sparsity, MoE\ntitle: Mixture # a comment\n---\nx\n", "f");
  CHECK_STR(n.tags, "sparsity moe");
  CHECK_STR(n.title, "Mixture");
  CHECK(n.date == NULL);
  md_note_free(&n);

  n = parse("---\ntags: quantization #int8 fp8\n---\n", "f");
  CHECK_STR(n.tags, "quantization int8 fp8");
  md_note_free(&n);

  /* no closing line: not front matter, just a thematic break and text */
  const char *open = "---\ntitle: Nope\nbody\n";
  n = parse(open, "f");
  CHECK_INT(n.body_off, 0);
  CHECK_STR(n.title, "f");
  md_note_free(&n);

  n = parse("No tags here.\n", "f");
  CHECK(n.tags == NULL);
  CHECK(n.date == NULL);
  md_note_free(&n);
}

static void test_title(void) {
  md_note n = parse("Intro line\n\n## Sub\n\n# Real Title\n\n# Second\n", "f");
  CHECK_STR(n.title, "Real Title");
  md_note_free(&n);

  n = parse("Kernel Fusion *Notes*\n===\n\nFusing elementwise ops.\n", "f");
  CHECK_STR(n.title, "Kernel Fusion Notes");
  CHECK_INT(n.nsections, 1);
  CHECK_INT(n.sections[0].level, 1);
  CHECK_STR(n.sections[0].heading, "Kernel Fusion Notes");
  md_note_free(&n);

  n = parse("> # Quoted H1\n\nPlain text.\n", "pipeline-parallelism");
  CHECK_STR(n.title, "pipeline-parallelism");
  md_note_free(&n);

  n = parse("", NULL);
  CHECK_STR(n.title, "");
  CHECK_INT(n.nsections, 1);
  CHECK_INT(n.sections[0].len, 0);
  CHECK_INT(n.sections[0].line, 1);
  CHECK_INT(n.nlinks, 0);
  md_note_free(&n);

  n = parse("# Using `vLLM` &amp; friends &#x2014; &copy;\n", "f");
  CHECK_STR(n.title, "Using vLLM & friends \xE2\x80\x94 &copy;");
  md_note_free(&n);
}

/* ------------------------------------------------------------ sections */
static void test_sections(void) {
  const char *t = "# Conf\n"
                  "intro\n"
                  "## Day 1\n"
                  "### Talk A\n"
                  "text\n"
                  "### Talk B\n"
                  "## Day 2\n"
                  "#### Deep\n"
                  "tail";
  md_note n = parse(t, "f");
  CHECK_INT(n.nsections, 6);
  if (n.nsections == 6) {
    static const char *want[] = {
      "Conf", "Conf \xE2\x80\xBA Day 1", "Conf \xE2\x80\xBA Day 1 \xE2\x80\xBA Talk A",
      "Conf \xE2\x80\xBA Day 1 \xE2\x80\xBA Talk B", "Conf \xE2\x80\xBA Day 2",
      "Conf \xE2\x80\xBA Day 2 \xE2\x80\xBA Deep",
    };
    static const long lines[] = {1, 3, 4, 6, 7, 8};
    static const int levels[] = {1, 2, 3, 3, 2, 4};
    for (int i = 0; i < 6; i++) {
      CHECK_STR(n.sections[i].heading, want[i]);
      CHECK_INT(n.sections[i].line, lines[i]);
      CHECK_INT(n.sections[i].level, levels[i]);
    }
    CHECK_INT(n.sections[0].off, 0);
    CHECK_INT(n.sections[1].off, off_of(t, "## Day 1"));
    CHECK_INT(n.sections[1].len, off_of(t, "### Talk A") - off_of(t, "## Day 1"));
    CHECK_INT(n.sections[5].off + n.sections[5].len, strlen(t));
  }
  md_note_free(&n);

  /* a sibling H2 resets the H3 under the previous H2 */
  n = parse("## A\n### A1\n## B\ntext\n", "f");
  CHECK_INT(n.nsections, 3);
  if (n.nsections == 3) CHECK_STR(n.sections[2].heading, "B");
  md_note_free(&n);

  t = "Preamble line\n"
      "```md\n"
      "# not a heading\n"
      "```\n"
      "    # indented code\n"
      "\n"
      "> # quoted heading\n"
      "\n"
      "- ## list heading\n"
      "\n"
      "##\n"
      "<h1>html</h1>\n"
      "\n"
      "  ## Real *one*\n"
      "body\n";
  n = parse(t, "f");
  CHECK_INT(n.nsections, 2);
  if (n.nsections == 2) {
    CHECK_INT(n.sections[0].level, 0);
    CHECK_STR(n.sections[0].heading, "");
    CHECK_INT(n.sections[1].off, off_of(t, "  ## Real"));
    CHECK_INT(n.sections[1].line, 14);
    CHECK_STR(n.sections[1].heading, "Real one");
  }
  CHECK_STR(n.title, "f");
  md_note_free(&n);
}

static void test_line_endings(void) {
  const char *crlf = "Intro\r\n\r\n# A\r\ntext\r\n## B\r\nend\r\n";
  const char *cr = "Intro\r\r# A\rtext\r## B\rend\r";
  const char *mixed = "Intro\n\r\n# A\rtext\n## B\r\nend";
  const char *all[] = {crlf, cr, mixed};
  for (int i = 0; i < 3; i++) {
    md_note n = parse(all[i], "f");
    CHECK_INT(n.nsections, 3);
    if (n.nsections == 3) {
      CHECK_INT(n.sections[1].line, 3);
      CHECK_INT(n.sections[2].line, 5);
      CHECK_INT(n.sections[1].off, off_of(all[i], "# A"));
      CHECK_INT(n.sections[2].off, off_of(all[i], "## B"));
      CHECK_STR(n.sections[2].heading, "A \xE2\x80\xBA B");
    }
    md_note_free(&n);
  }

  const char *bom = "\xEF\xBB\xBF# Title\nx [l](u)\n## Two\n";
  md_note n = parse(bom, "f");
  CHECK_INT(n.body_off, 3);
  CHECK_STR(n.title, "Title");
  CHECK_INT(n.nsections, 3);
  if (n.nsections == 3) {
    CHECK_INT(n.sections[0].len, 3);
    CHECK_INT(n.sections[1].off, 3);
    CHECK_INT(n.sections[1].line, 1);
    CHECK_INT(n.sections[2].line, 3);
  }
  CHECK_INT(n.nlinks, 1);
  if (n.nlinks == 1) {
    CHECK_INT(n.links[0].line, 2);
    CHECK_INT(n.links[0].col, 3);
    CHECK_INT(n.links[0].section, 1);
  }
  md_note_free(&n);

  /* CRLF link positions */
  const char *t = "one\r\ntwo [x](y)\r\n";
  n = parse(t, "f");
  CHECK_INT(n.nlinks, 1);
  if (n.nlinks == 1) {
    CHECK_INT(n.links[0].line, 2);
    CHECK_INT(n.links[0].col, 5);
  }
  md_note_free(&n);
}

/* ------------------------------------------------------------ links */
static void check_link(const char *t, const md_note *n, size_t i, int kind,
                       const char *at, long line, long col, const char *text,
                       const char *url, const char *title, int section) {
  CHECK(i < n->nlinks);
  if (i >= n->nlinks) return;
  const md_link *l = &n->links[i];
  CHECK_INT(l->kind, kind);
  CHECK_INT(l->off, off_of(t, at));
  CHECK_INT(l->line, line);
  CHECK_INT(l->col, col);
  CHECK_STR(l->text, text);
  CHECK_STR(l->url, url);
  if (title) CHECK_STR(l->title, title);
  else CHECK(l->title == NULL);
  CHECK_INT(l->section, section);
}

static void test_links(void) {
  const char *t =
      "# Links\n"
      "See [Seqax](https://github.com/x/seqax \"Seqax repo\") and <https://mlsys.org/>.\n"
      "Bare https://arxiv.org/abs/2401.00001 and www.example.com here.\n"
      "![Chip *diagram*](img/chip.png 'die shot') and [[Attention Notes|attention]] plus [[Roofline]].\n"
      "A [ref link][r1] and [*emph* `code`](u?a=1&amp;b=2), mail <ops@example.org>.\n"
      "## Second\n"
      "[](empty-url) ![](blank.png)\n"
      "[![alt text](i.png)](https://outer.example) and [FSDP]\n"
      "\n"
      "[r1]: https://example.org/ref \"Ref Title\"\n"
      "[fsdp]: https://example.org/fsdp\n";
  md_note n = parse(t, "f");
  CHECK_INT(n.nlinks, 15);
  check_link(t, &n, 0, MD_LINK_INLINE, "[Seqax]", 2, 5, "Seqax",
             "https://github.com/x/seqax", "Seqax repo", 0);
  check_link(t, &n, 1, MD_LINK_INLINE, "<https://mlsys", 2, 58,
             "https://mlsys.org/", "https://mlsys.org/", NULL, 0);
  check_link(t, &n, 2, MD_LINK_INLINE, "https://arxiv", 3, 6,
             "https://arxiv.org/abs/2401.00001",
             "https://arxiv.org/abs/2401.00001", NULL, 0);
  check_link(t, &n, 3, MD_LINK_INLINE, "www.example", 3, 43, "www.example.com",
             "http://www.example.com", NULL, 0);
  check_link(t, &n, 4, MD_LINK_IMAGE, "![Chip", 4, 1, "Chip diagram",
             "img/chip.png", "die shot", 0);
  check_link(t, &n, 5, MD_LINK_WIKI, "[[Attention", 4, 48, "attention",
             "Attention Notes", NULL, 0);
  check_link(t, &n, 6, MD_LINK_WIKI, "[[Roofline", 4, 83, "Roofline",
             "Roofline", NULL, 0);
  check_link(t, &n, 7, MD_LINK_INLINE, "[ref link]", 5, 3, "ref link",
             "https://example.org/ref", "Ref Title", 0);
  check_link(t, &n, 8, MD_LINK_INLINE, "[*emph*", 5, 22, "emph code",
             "u?a=1&b=2", NULL, 0);
  check_link(t, &n, 9, MD_LINK_INLINE, "<ops@", 5, 59, "ops@example.org",
             "mailto:ops@example.org", NULL, 0);
  check_link(t, &n, 10, MD_LINK_INLINE, "[](empty", 7, 1, "", "empty-url",
             NULL, 1);
  check_link(t, &n, 11, MD_LINK_IMAGE, "![](blank", 7, 15, "", "blank.png",
             NULL, 1);
  check_link(t, &n, 12, MD_LINK_INLINE, "[![alt", 8, 1, "alt text",
             "https://outer.example", NULL, 1);
  check_link(t, &n, 13, MD_LINK_IMAGE, "![alt", 8, 2, "alt text", "i.png",
             NULL, 1);
  check_link(t, &n, 14, MD_LINK_INLINE, "[FSDP]", 8, 49, "FSDP",
             "https://example.org/fsdp", NULL, 1);
  md_note_free(&n);

  /* a link inside a heading belongs to that heading's section */
  t = "Intro [a](https://a.example)\n\n## See [the docs](https://docs.example)\n";
  n = parse(t, "f");
  CHECK_INT(n.nlinks, 2);
  CHECK_INT(n.nsections, 2);
  if (n.nsections == 2) CHECK_STR(n.sections[1].heading, "See the docs");
  check_link(t, &n, 0, MD_LINK_INLINE, "[a]", 1, 7, "a", "https://a.example",
             NULL, 0);
  check_link(t, &n, 1, MD_LINK_INLINE, "[the docs]", 3, 8, "the docs",
             "https://docs.example", NULL, 1);
  md_note_free(&n);

  /* links in quotes, lists and tables; an empty image first in a block */
  t = "> quoted [q](https://q.example)\n\n- item ![](x.png)\n\n"
      "| a | b |\n|---|---|\n| [c](d) | e |\n\n![][fig]\n\n[fig]: f.png\n";
  n = parse(t, "f");
  CHECK_INT(n.nlinks, 4);
  check_link(t, &n, 0, MD_LINK_INLINE, "[q]", 1, 10, "q", "https://q.example",
             NULL, 0);
  check_link(t, &n, 1, MD_LINK_IMAGE, "![](x", 3, 8, "", "x.png", NULL, 0);
  check_link(t, &n, 2, MD_LINK_INLINE, "[c]", 7, 3, "c", "d", NULL, 0);
  check_link(t, &n, 3, MD_LINK_IMAGE, "![][fig]", 9, 1, "", "f.png", NULL, 0);
  md_note_free(&n);
}

/* ------------------------------------------------------------ hostile input */
static void run_hostile(const char *what, const char *t, size_t len) {
  md_note n;
  int rc = md_note_parse(t, len, "hostile", &n);
  if (rc != CNS_OK) fprintf(stderr, "%s: rc %d\n", what, rc);
  CHECK(rc == CNS_OK || rc == CNS_ELIMIT);
  invariants(t, len, &n);
  md_note_free(&n);
  md_note_free(&n); /* safe on the zeroed struct it leaves */
}

static char *repeat(const char *unit, size_t times, const char *tail,
                    size_t *len) {
  buf b = BUF_INIT;
  for (size_t i = 0; i < times; i++) buf_adds(&b, unit);
  buf_adds(&b, tail);
  *len = b.len;
  return buf_detach(&b);
}

static void test_hostile(void) {
  size_t len;
  char *t;

  md_note z;
  memset(&z, 0, sizeof z);
  md_note_free(&z);
  md_note_free(NULL);

  run_hostile("empty", "", 0);
  run_hostile("nul only", "\0", 1);
  run_hostile("bom only", "\xEF\xBB\xBF", 3);
  run_hostile("fence only", "---", 3);
  run_hostile("fence nl", "---\n", 4);
  run_hostile("empty fm", "---\n---\n", 8);
  run_hostile("lone cr", "\r", 1);
  static const char nul[] = "# He\0ad\n[a\0b](u\0v) #t\0ag\n";
  static const char bad[] = "# \xff\xfe\xc3\n\x80\x80 [\xe2\x82](\xf0\x9f) #\xc3x\n";
  run_hostile("nul in text", nul, sizeof nul - 1);
  run_hostile("bad utf8", bad, sizeof bad - 1);

  /* binary garbage, with a fixed seed */
  uint32_t seed = 12345;
  size_t glen = 200000;
  t = malloc(glen);
  for (size_t i = 0; i < glen; i++) {
    seed = seed * 1103515245u + 12345u;
    t[i] = (char)(seed >> 16);
  }
  run_hostile("garbage", t, glen);
  /* markdown-flavoured garbage */
  static const char alphabet[] = "#[]()!<>*_`~$|\\-: \n\r\tab\0h/.&;";
  for (size_t i = 0; i < glen; i++) {
    seed = seed * 1103515245u + 12345u;
    t[i] = alphabet[(seed >> 16) % (sizeof alphabet - 1)];
  }
  run_hostile("md garbage", t, glen);
  free(t);

  t = repeat(">", 20000, " # deep\n", &len);
  run_hostile("nested quotes", t, len);
  free(t);

  t = repeat("- ", 3000, "[x](y)\n", &len);
  run_hostile("nested list items", t, len);
  free(t);
  {
    buf b = BUF_INIT;
    for (int i = 0; i < 3000; i++) {
      for (int j = 0; j < i; j++) buf_adds(&b, "  ");
      buf_adds(&b, "- item\n");
    }
    run_hostile("indented lists", b.p, b.len);
    buf_free(&b);
  }

  t = repeat("word #tag ", 500000, "", &len); /* a 5 MB line */
  run_hostile("long line", t, len);
  t[0] = '#';
  run_hostile("long heading", t, len);
  free(t);

  t = repeat("[a](b) ", 50000, "", &len);
  md_note n;
  CHECK_INT(md_note_parse(t, len, "f", &n), CNS_OK);
  CHECK_INT(n.nlinks, 50000);
  if (n.nlinks == 50000) {
    CHECK_INT(n.links[49999].off, 49999 * 7);
    CHECK_INT(n.links[49999].col, 49999 * 7 + 1);
  }
  md_note_free(&n);
  free(t);

  t = repeat("<https://example.org/#f> www.a.org ", 50000, "", &len);
  run_hostile("autolinks", t, len);
  free(t);

  {
    buf b = BUF_INIT;
    for (int i = 0; i < 50000; i++) buf_adds(&b, "![");
    buf_adds(&b, "x");
    for (int i = 0; i < 50000; i++) buf_adds(&b, "](u)");
    run_hostile("nested images", b.p, b.len);
    buf_reset(&b);
    for (int i = 0; i < 100000; i++) buf_adds(&b, "[");
    run_hostile("brackets", b.p, b.len);
    buf_free(&b);
  }

  t = repeat("## h\n", 100000, "", &len);
  run_hostile("many headings", t, len);
  free(t);

  t = repeat("\r\n[l](u)\r", 50000, "", &len);
  run_hostile("mixed endings", t, len);
  free(t);

  {
    buf b = BUF_INIT;
    buf_adds(&b, "---\n");
    for (int i = 0; i < 100000; i++) buf_adds(&b, "tags: a\n");
    run_hostile("open front matter", b.p, b.len);
    buf_free(&b);
  }
}

int main(void) {
  test_front_matter();
  test_title();
  test_sections();
  test_line_endings();
  test_links();
  test_hostile();
  return check_done("test_md");
}
