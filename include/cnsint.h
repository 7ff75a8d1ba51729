/*
** cnsint.h -- the private interface between cnsearch's files.
**
** One header, sectioned by the file that owns each part, in the order
** data flows: notes -> scan -> parse (md) -> index (store); query ->
** parse (qp) -> plan/rank (search) -> snippet -> print.  A name's prefix
** says which file defines it.
*/
#ifndef CNSINT_H
#define CNSINT_H

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sqlite3.h>
#include "cnsearch.h"

#if defined(__GNUC__)
#define CNS_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define CNS_NORETURN __attribute__((noreturn))
#else
#define CNS_PRINTF(a, b)
#define CNS_NORETURN
#endif

/* ---------------------------------------------------------------- core/mem.c
** Allocation that cannot fail: on out-of-memory the process ends with a
** message (Redis's policy).  Callers never check for NULL.  cns_oom() is
** that ending, for a library that reports running out of memory itself
** (n: the bytes wanted, 0 when unknown). */
CNS_NORETURN void cns_oom(size_t n);
void *cns_xmalloc(size_t n);
void *cns_xcalloc(size_t n, size_t size);
void *cns_xrealloc(void *p, size_t n);
char *cns_xstrdup(const char *s);
char *cns_xstrndup(const char *s, size_t n);
char *cns_xasprintf(const char *fmt, ...) CNS_PRINTF(1, 2);
/* qsort() order of row ids (long long), lowest first. */
int cns_cmp_id(const void *a, const void *b);

/* ---------------------------------------------------------------- core/hash.c
** A fast 64-bit hash of n bytes (not for adversaries), and the mixer it
** folds words in with.  Stored in the index: see hash.c before changing. */
uint64_t cns_hash(const void *data, size_t n);
uint64_t cns_hash_mix(uint64_t x);

/* ---------------------------------------------------------------- core/buf.c
** A growable byte buffer, always NUL-terminated once anything is added.
** The owner frees it with buf_free(); buf_detach() hands the bytes over
** (caller frees with free()). */
typedef struct buf {
  char *p;
  size_t len, cap;
} buf;

#define BUF_INIT {NULL, 0, 0}
void buf_add(buf *b, const void *data, size_t n);
void buf_adds(buf *b, const char *s);
void buf_addc(buf *b, int c);
void buf_addf(buf *b, const char *fmt, ...) CNS_PRINTF(2, 3);
void buf_vaddf(buf *b, const char *fmt, va_list ap);
void buf_reset(buf *b);
char *buf_detach(buf *b);      /* never NULL: "" for an empty buffer */
void buf_free(buf *b);
const char *buf_str(const buf *b); /* "" for an empty buffer */
/* Length of the valid UTF-8 sequence at s (n bytes left: 1 to 4), or 0
** for a byte that starts none (overlong, surrogate, past U+10FFFF). */
size_t utf8_len(const char *s, size_t n);

/* ---------------------------------------------------------------- core/config.c
** ROOT/.cnsearch/config. */
typedef struct cns_config {
  char **exts;       /* file name endings indexed, without the dot */
  size_t nexts;
  char **ignores;    /* gitignore-style patterns, relative to the root */
  size_t nignores;
  double weights[4]; /* bm25 weights: title, heading, link, body */
  int snippet;       /* snippet length in bytes */
  long limit;        /* default number of hits */
  int watch;         /* CFG_WATCH_*: start a background watcher? */
  long watch_idle;   /* seconds without a search before it ends */
} cns_config;
/* What stat() said of the config file when it was read, so that a
** long-lived process can tell it has changed since (indexer/watch.c). */
typedef struct cfg_stamp {
  int seen;          /* the file existed */
  unsigned long long dev, ino;
  long long size, mtime_ns, ctime_ns;
} cfg_stamp;
#define CFG_WATCH_AUTO 0   /* for folders of AUTOWATCH_MIN notes or more */
#define CFG_WATCH_NEVER 1
#define CFG_WATCH_ALWAYS 2
void cfg_default(cns_config *c);
/* Load path into *c (defaults where silent; a missing file is fine).
** CNS_EUSAGE with "bad setting ... in config 'path' line N: why" in err. */
int cfg_load(cns_config *c, const char *path, buf *err);
void cfg_add(char ***v, size_t *n, const char *s);
/* "auto", "never", "always" to CFG_WATCH_*; -1 for anything else. */
int cfg_watch_mode(const char *v);
/* "90s", "30m", "2h", "7d" or "30" (minutes) to seconds; 0 if malformed. */
long cfg_duration(const char *v);
void cfg_free(cns_config *c);
/* path's stamp now; is it the same file, unchanged? */
void cfg_stamp_of(const char *path, cfg_stamp *out);
int cfg_stamp_same(const cfg_stamp *a, const cfg_stamp *b);

/* ---------------------------------------------------------------- core/thread.c
** Start fn(arg) on a thread of its own with every signal blocked (they
** belong to the main thread); 1 when it started, 0 when the caller must
** do the work itself. */
int cns_spawn(pthread_t *th, void *(*fn)(void *), void *arg);

/* ---------------------------------------------------------------- core/zip.c
** Compressed note bodies (zstd).  zip_pack() replaces out's content with
** the compressed text, using a compression context from zip_new() (freed
** with zip_free(); one per thread) and the dictionary it was given, if
** any.  zip_register() adds the SQL function unpack(z, len), which gives
** the text back (or an error for a damaged row), reading the dictionary
** a frame names from meta('zdict').
**
** A dictionary (zip_dict) is made from samples of the notes of a bulk
** load: nsamples texts, one after the other in samples, sizes[i] bytes
** each; the first ZIP_SAMPLE_BYTES of up to ZIP_SAMPLES notes are enough.
** zip_dict_make() gives NULL when they are too few (under 8 samples or
** 4 KB) or too alike to build one on (then bodies are compressed
** without).  zip_dict_load() digests a stored one (NULL if the bytes are
** not one).  Either result is freed with zip_dict_free(), after every
** zip_ctx using it; zip_dict_bytes() gives what to store, zip_dict_id()
** the id its frames carry. */
#define ZIP_SAMPLES 128
#define ZIP_SAMPLES_MIN 8
#define ZIP_SAMPLE_BYTES 2048
#define ZIP_DICT_BYTES 32768
typedef struct zip_dict zip_dict;
zip_dict *zip_dict_make(const char *samples, const size_t *sizes,
                        unsigned nsamples, unsigned id);
zip_dict *zip_dict_load(const void *bytes, size_t n);
/* The dictionary stored in meta('zdict'), digested (zip_dict_load), in
** *out: NULL when there is none; an SQLite code. */
int zip_dict_read(sqlite3 *db, zip_dict **out);
const void *zip_dict_bytes(const zip_dict *d, size_t *n);
unsigned zip_dict_id(const zip_dict *d);
void zip_dict_free(zip_dict *d);
typedef struct zip_ctx zip_ctx;
zip_ctx *zip_new(const zip_dict *dict);
void zip_free(zip_ctx *z);
void zip_pack(zip_ctx *z, const char *text, size_t len, buf *out);
int zip_register(sqlite3 *db);
/* NUL bytes and bytes that are not UTF-8 become spaces, in place: the
** text the trigram index is given (see note_tri_doc in store.c). */
void zip_plain_for_trigrams(char *t, size_t n);

/* ---------------------------------------------------------------- core/tok.c
** The one tokenizer, shared by the index and by positions/snippets:
** unicode61 (diacritics folded, case folded) below porter stemming, with
** technical tokens kept findable ("c++", "c#").  Registered with FTS5 as
** "cns"; the FTS5 tables use tokenize='cns'. */
int tok_register(sqlite3 *db);
/* FTS5's API object on db (for registering tokenizers and functions), or
** NULL. */
fts5_api *tok_fts5_api(sqlite3 *db);
/* Find tokenizer `name` on api and make an instance of it with argv into
** *inst (*t gets its methods; the caller deletes it with t->xDelete); an
** SQLite code.  What every tokenizer stacked on another does first. */
int tok_make(fts5_api *api, const char *name, const char **argv, int argc,
             fts5_tokenizer *t, Fts5Tokenizer **inst);

typedef struct tok_token {
  size_t text_off;  /* folded, stemmed form: tok_text(), text_len bytes */
  size_t text_len;
  size_t start, end; /* byte range in the input */
  int pos;          /* token position; colocated tokens share one */
} tok_token;

typedef struct tok_list {
  tok_token *v;
  size_t n, cap;
  buf pool;         /* backing store for text */
} tok_list;

/* A tokenizer instance for use outside FTS5 (positions, snippets).
** tok_open() needs a db on which tok_register() ran; the caller frees
** the context with tok_close(), before closing db. */
typedef struct tok_ctx tok_ctx;
int tok_open(sqlite3 *db, tok_ctx **out);
void tok_close(tok_ctx *t);
/* Tokenize text (query!=0: query mode, no colocated forms).  Appends to
** *out; the caller frees with tok_list_free().  Returns an SQLite code. */
int tok_run(tok_ctx *t, const char *text, size_t len, int query,
            tok_list *out);
/* ASCII byte classes shared by the tokenizing code (tok.c, md.c,
** qparse.c): spaces end every token, letters and digits are in one. */
static inline int cns_ascii_space(int c) {
  return c == ' ' || (c >= '\t' && c <= '\r');
}
static inline int cns_ascii_alnum(int c) {
  return (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'z');
}

/* What a search wants tok_sieve() to find in a note: the tokens of some
** words (tok_want() adds each word, phrase or prefix: its tokens from
** tok_run() in query mode).  A zeroed tok_filter wants nothing; with
** keep[] set by hand, it wants every word whose stem starts with a kept
** byte, anywhere in the text. */
#define TOK_ANCHORS 8
#define TOK_ANCHOR_MAX 16
typedef struct tok_filter {
  unsigned char keep[256];  /* first bytes of the wanted stems */
  unsigned char scan[256];  /* the anchors' key bytes (either case), >= 0x80 */
  int whole;                /* some word has no anchor: read all the text */
  int reach;                /* a phrase's tokens less one (see tok.c) */
  size_t nanchor;
  char anchor[TOK_ANCHORS][TOK_ANCHOR_MAX]; /* lowercase ASCII */
  size_t alen[TOK_ANCHORS];
  size_t key[TOK_ANCHORS];  /* where each anchor's rarest byte is */
} tok_filter;
void tok_want(tok_filter *f, const tok_list *word);
/* Like tok_run() in document mode, but only the words whose stem starts
** with a byte b where f->keep[b] != 0 are appended, with the places
** tok_run() gives them: the others cost no stemming and no copy.  Where
** every wanted word has an anchor, only the stretches of text around the
** anchors are read (tok.c): two tokens' positions then differ as
** tok_run()'s do when no text was skipped between them, and by 2 or more
** when some was, as tok_run()'s do then too. */
int tok_sieve(tok_ctx *t, const char *text, size_t len, const tok_filter *f,
              tok_list *out);
void tok_list_free(tok_list *l);
const char *tok_text(const tok_list *l, size_t i);

/* A tape: the tokens cns gives some texts, recorded on one thread
** (tok_record) for FTS5 to take on the writer's (tok_replay_arm).  It
** borrows the texts, which must outlive it unchanged; the owner frees it
** with tok_tape_free().  A zeroed tape is empty and valid. */
#define TOK_TAPE_TEXTS 4
typedef struct tok_taped {
  const char *text;
  size_t len;
  size_t off, end;  /* its tokens: b.p[off, end) */
} tok_taped;
typedef struct tok_tape {
  buf b;
  tok_taped v[TOK_TAPE_TEXTS];
  size_t n;
} tok_tape;
/* Record the document-mode tokens of text; an SQLite code (on failure the
** tape is as it was, and that text will be tokenized as usual). */
int tok_record(tok_ctx *t, const char *text, size_t len, tok_tape *tape);
size_t tok_tape_bytes(const tok_tape *tape); /* the memory it holds */
void tok_tape_free(tok_tape *tape);
/* The connection's replay point: while a tape is armed, FTS5's "cns"
** instances on that connection take the tokens of any document text the
** tape holds from it.  Arm it around one statement on the connection's
** own thread, and disarm (tape NULL) before the tape changes or goes.
** tok_replay_of() is NULL only if cns is not registered on db. */
typedef struct tok_replay tok_replay;
tok_replay *tok_replay_of(sqlite3 *db);
void tok_replay_arm(tok_replay *r, const tok_tape *tape);

/* ---------------------------------------------------------------- core/tri.c
** The regex index's tokenizer, "cnstri": FTS5's trigram, giving each
** trigram of a document once (the index is detail='none') and only its
** word trigrams: tri_word(t, n) is 1 when no byte of t is a space or an
** ASCII punctuation or control character.  tri_register() also adds the
** SQL function tri_word(term). */
int tri_word(const char *t, size_t n);
int tri_register(sqlite3 *db);

/* ---------------------------------------------------------------- indexer/md.c
** Markdown (CommonMark + GFM, through md4c) to the structure the index
** keeps: the title, front matter fields, sections (the source under each
** heading) and links.  Pure: no I/O, no SQL. */
typedef struct md_section {
  size_t off, len;   /* byte range of the section's source in the note */
  long line;         /* 1-based line of off */
  int level;         /* heading level 1..6; 0 for the text before any heading */
  char *heading;     /* heading path, levels joined by " › "; "" for the preamble */
} md_section;

#define MD_LINK_INLINE 0  /* [text](url), [text][ref], <url>, bare URLs */
#define MD_LINK_IMAGE  1  /* ![alt](url) */
#define MD_LINK_WIKI   2  /* [[target|text]] */

typedef struct md_link {
  size_t off;        /* byte offset of the link's first byte ('[', '<', '!' or the URL) */
  long line, col;    /* 1-based; col in bytes */
  int section;       /* index into md_note.sections */
  int kind;          /* MD_LINK_* */
  char *text;        /* anchor (or alt) text as plain text; "" if none */
  char *url;         /* destination (wiki: the target); never NULL */
  char *title;       /* link title, or NULL */
} md_link;

typedef struct md_note {
  char *title;       /* front matter title, else first H1, else fallback; never NULL */
  char *date;        /* front matter date as written (YYYY-MM-DD...), or NULL */
  char *tags;        /* tags from front matter and #tags, space-separated, or NULL */
  size_t body_off;   /* first byte after the front matter (and BOM); 0 if none */
  md_section *sections;
  size_t nsections;  /* >= 1: every byte of the note belongs to one section */
  md_link *links;
  size_t nlinks;
} md_note;

/* Parse text[0..len).  fallback_title is used when the note has no title
** of its own.  Fills *out (caller frees with md_note_free()).  Returns
** CNS_OK, or CNS_ELIMIT if md4c gives up. */
int md_note_parse(const char *text, size_t len, const char *fallback_title,
             md_note *out);
void md_note_free(md_note *n);

/* ---------------------------------------------------------------- indexer/ignore.c
** gitignore-style rules.  An ign_set is the rules of one file, relative
** to the folder base ("" for the root); the caller frees it. */
typedef struct ign_set ign_set;
ign_set *ign_parse(const char *base, const char *text, size_t len);
void ign_free(ign_set *s);
/* 1 when the set ignores path (relative to the root), -1 when it
** re-includes it, 0 when it says nothing. */
int ign_match(const ign_set *s, const char *path, int is_dir);

/* ---------------------------------------------------------------- indexer/scan.c
** Walk the notes root and list the note files with their size and mtime. */
typedef struct scan_entry {
  char *path;        /* relative to the root, '/'-separated */
  long long size;
  long long mtime;   /* nanoseconds since the epoch */
} scan_entry;

/* A folder's notes in brief: how many lie directly in it, and the XOR of
** their scan_note_hash()es.  store.c keeps the same for the index (table
** folder), so an update reads the notes of the folders that differ only. */
typedef struct scan_dir {
  char *path;        /* "" for the root, else no trailing '/' */
  long long notes;
  uint64_t sum;
} scan_dir;

/* The entries' paths live in blocks the list owns (scan_list_free()). */
typedef struct scan_list {
  scan_entry *v;
  size_t n, cap;
  scan_dir *dirs;    /* scan_root() only: sorted by path (strcmp) */
  size_t ndirs, dcap;
  char **blocks;
  size_t nblocks;
} scan_list;

/* Returns CNS_OK, or CNS_EIO with a message in err when the root itself
** cannot be read.  Unreadable entries below it are counted in *skipped.
** Also lists each folder that holds notes, in brief (out->dirs). */
int scan_root(const char *root, const cns_config *cfg, scan_list *out,
              long *skipped, buf *err);
/* Append what scan_root() would list at or below rel (a root-relative
** file or folder path, no "." or ".." parts, no trailing '/'), by the same
** rules; nothing when it is gone, hidden or ignored.  Sorts *out. */
int scan_under(const char *root, const cns_config *cfg, const char *rel,
               scan_list *out, long *skipped, buf *err);
void scan_list_free(scan_list *l);
/* Is name a note by its ending (the config's extensions)? */
int scan_is_note_name(const cns_config *cfg, const char *name);
/* qsort() order of scan_entry by path (strcmp, the index's BINARY). */
int scan_by_path(const void *a, const void *b);
/* A note's state as 64 bits: it changes when its path, size or mtime do. */
uint64_t scan_note_hash(const char *path, long long size, long long mtime);
/* The length of path's folder part: the bytes before its last '/'. */
size_t scan_dir_len(const char *path);

/* ---------------------------------------------------------------- indexer/store.c
** The schema and every write. */
#define STORE_SCHEMA_VERSION 12 /* bump on any schema change */
#define CNS_STR_(x) #x
#define CNS_STR(x) CNS_STR_(x)
typedef struct store store;
/* Create the schema in an empty database (PRAGMA user_version 0). */
int store_schema(sqlite3 *db, buf *err);
/* A writer holding prepared statements; the caller frees it with
** store_close() before closing db. */
int store_open(sqlite3 *db, store **out, buf *err);
void store_close(store *st);
int store_begin(store *st, buf *err);
/* Commit; then give back some free pages past a sixteenth of the file. */
int store_commit(store *st, buf *err);
/* Inside a transaction: on=1 before adding many notes, on=0 after. */
int store_bulk(store *st, int on, buf *err);
/* The dictionary this transaction compresses bodies with (zip.c), in
** *out, owned by st until store_close() or the next transaction; NULL
** for none.  store_new_dict(), when the index holds no body, makes one
** from samples of the notes about to be added (zip_dict_make) and stores
** it; otherwise it does nothing. */
int store_dict(store *st, const zip_dict **out, buf *err);
int store_new_dict(store *st, const char *samples, const size_t *sizes,
                   unsigned n, buf *err);
void store_rollback(store *st);
/* Add one note and everything derived from it.  A note already stored
** under path must have been deleted first. */
int store_put_note(store *st, const char *path, long long size,
                   long long mtime, const char *text, size_t len,
                   const md_note *md, buf *err);
/* The same in two steps: store_doc_make() does all that needs no SQL
** (any thread, with its own zip_ctx, and its own tok_ctx or NULL: with
** one it records the tokens of the FTS5 columns, which the insert then
** replays instead of tokenizing on the writer); store_put_doc() writes.
** A doc borrows path, text and md, which must outlive it;
** store_doc_free() frees what it owns. */
typedef struct store_doc {
  const char *path;
  long long size, mtime;
  const char *text;
  size_t len;
  const md_note *md;
  char *date;        /* the normalised date, or NULL */
  buf heads, links;  /* the FTS heading and link columns */
  buf z;             /* the compressed text */
  char **targets;    /* link.target of each link (NULL: leads nowhere) */
  tok_tape tape;     /* the FTS5 columns' tokens, when made with a tok_ctx */
} store_doc;
void store_doc_make(store_doc *d, zip_ctx *z, tok_ctx *tok, const char *path,
                    long long size, long long mtime, const char *text,
                    size_t len, const md_note *md);
void store_doc_free(store_doc *d);
int store_put_doc(store *st, const store_doc *d, buf *err);
/* Delete the notes ids[0..n) and everything derived from them, in id
** order (ids is sorted in place): FTS5 starts a new segment whenever a
** row id is not above the last one it was given. */
int store_delete_notes(store *st, long long *ids, size_t n, buf *err);
/* Drop every note (for a rebuild, inside its transaction). */
int store_clear(store *st, buf *err);
/* Check SQLite's, FTS5's and cnsearch's own invariants; CNS_ECORRUPT with
** the first broken one in err. */
int store_check(sqlite3 *db, buf *err);
/* Is the trigram index (for regex search) complete? */
int store_trigram_ready(sqlite3 *db);
/* Build it from the notes, in one transaction, and mark it complete. */
int store_trigram_build(sqlite3 *db, buf *err);
/* Do up to `pages` leaf pages of FTS5's pending merge work on each FTS5
** table, outside any update: 1 if there was some, 0 if none, -1 if it
** could not (locked, an error). */
int store_merge(sqlite3 *db, int pages);
/* FTS5's automatic merges in commits, on (1) or off (0), in every FTS5
** table: off while a watcher runs, which merges instead (store.c).
** store_automerge() returns SQLite's code; store_automerge_off() is 1
** when they are off. */
int store_automerge(sqlite3 *db, int on);
int store_automerge_off(sqlite3 *db);
/* The date of a note: front matter date if it parses, else a date in
** the file name; normalised to YYYY-MM-DD (YYYY-MM, YYYY).  Caller frees;
** NULL when there is none. */
char *store_note_date(const char *path, const char *fm_date);
/* One fetched page (or local text file) as stored; strings borrowed. */
typedef struct store_page {
  const char *url;          /* http(s) URL less #fragment, or root-relative path */
  const char *final_url;    /* after redirects; NULL for files */
  long status;              /* HTTP status; 0 when none came (stored NULL) */
  const char *content_type;
  const char *title, *heading, *body; /* body NULL: no text (not text, failed) */
  long long fetched;        /* unix seconds */
  const char *etag, *last_modified;
  const char *error;        /* NULL on success */
} store_page;
/* Replace whatever is stored under each pgs[i].url with pgs[i] (page and
** page_fts); the n urls are distinct. */
int store_put_pages(store *st, const store_page *pgs, size_t n, buf *err);
/* Record another attempt at a stored page, keeping its text: status (if
** > 0), error (NULL: it worked) and fetched.  For 304 Not Modified and for
** refreshes that failed, whose old text stays searchable. */
int store_mark_page(store *st, const char *url, long status,
                    const char *error, long long fetched, buf *err);
/* Drop the pages no link leads to any more; *n says how many. */
int store_prune_pages(store *st, long *n, buf *err);


/* ---------------------------------------------------------------- indexer/feed.c
** Notes read, parsed and compressed on a second thread, in the order
** given, a bounded distance ahead of the caller (who writes them).
** feed_next() returns the next item (NULL after the last), which the
** caller hands back with feed_release() before asking for another;
** feed_end() stops and frees everything, released or not.  db, root and
** v must outlive the feed; db is only read from, by feed_start(), for
** the thread's own tokenizer. */
typedef struct feed_item {
  const scan_entry *e;
  int ok;            /* 0: unreadable or unparsable; skip it */
  char *text;        /* the file as read */
  size_t len;
  char *title;       /* the fallback title */
  md_note md;
  store_doc doc;     /* ready to write when ok */
} feed_item;
typedef struct feed feed;
feed *feed_start(sqlite3 *db, const char *root, const scan_entry *const *v,
                 size_t n, const zip_dict *dict);
/* The first ZIP_SAMPLE_BYTES of up to ZIP_SAMPLES of the n notes, spread
** evenly, one after the other in out, sizes[i] bytes each (sizes holds
** ZIP_SAMPLES); returns how many.  Unreadable notes are passed over. */
unsigned feed_sample(const char *root, const scan_entry *const *v, size_t n,
                     buf *out, size_t *sizes);
feed_item *feed_next(feed *f);
void feed_release(feed *f, feed_item *it);
void feed_end(feed *f);
/* ---------------------------------------------------------------- indexer/links.c
** Where links lead.  links_target() is pure and runs at index time (its
** result is link.target); which note a target names is asked at query
** time, so renames, new notes and changed titles need no re-indexing. */

/* link.target for a link of kind (MD_LINK_*) to url, written in the note
** at note_path (relative to the root):
**   http(s)          the URL, scheme and host lower-cased, #fragment cut
**   local path       root-relative, '/'-separated, "."/".." resolved,
**                    percent-decoded, #anchor and ?query cut; a leading
**                    '/' means the root.  NULL if it climbs out of the root.
**   wiki link        the page name, #anchor cut, blanks trimmed
** NULL for other schemes (mailto:, file:, ...) and for "#anchor" alone.
** Caller frees with free(). */
char *links_target(const char *note_path, int kind, const char *url);
/* 1 when target is an http(s) URL. */
int links_is_web(const char *target);
/* link.thash for the target's n bytes; links_register() adds it to SQL as
** cns_thash(target) (NULL for NULL). */
int32_t links_target_hash(const char *target, size_t n);
int links_register(sqlite3 *db);
/* What fetch does with a local file, by its name: LINKS_FILE_HTML,
** LINKS_FILE_TEXT, or 0 (not read: notes, images, unknown endings). */
#define LINKS_FILE_HTML 1
#define LINKS_FILE_TEXT 2
int links_file_kind(const char *path);
/* The note a stored link (kind, target) leads to: *id, or 0 when none.
** Local paths: the note of that path, else of that path plus an ending
** (".md" first).  Wiki names: the note of that title (ASCII case
** ignored), else of that file name stem or path.  Ties go to the first
** path in byte order. */
int links_resolve(sqlite3 *db, int kind, const char *target, long long *id,
                  buf *err);
/* The note a user means by name: a path (absolute, relative to the
** folder cwd -- NULL: the current one -- or relative to root; the ending
** may be left off), else a title, else a file name stem.  *path (caller
** frees) is its path.
** CNS_EUSAGE "no note 'x'" / "'x' names 2 notes: a.md, b.md; ..." */
int links_find_note(sqlite3 *db, const char *root, const char *cwd,
                    const char *name, long long *id, char **path, buf *err);
/* Note ids, ascending, without repeats. */
typedef struct links_ids {
  long long *v;
  size_t n, cap;
} links_ids;
void links_ids_free(links_ids *ids);
/* Notes holding a link that leads to note (backlinks; note itself left
** out).  For the query filter links-to:NOTE. */
int links_sources(sqlite3 *db, long long note, links_ids *out, buf *err);
/* Notes that note's links lead to (itself left out).  For the query
** filter linked-from:NOTE. */
int links_dests(sqlite3 *db, long long note, links_ids *out, buf *err);

/* ---------------------------------------------------------------- indexer/html.c
** Page bytes to UTF-8 text.  Pure: no I/O, no SQL (libxml2's HTML
** parser, never touching the network). */
typedef struct html_text {
  char *title;     /* <title>, else the first <h1>; NULL when neither */
  char *heading;   /* each heading's text on its own line; "" if none */
  char *body;      /* visible text, one line per block element */
} html_text;
/* Parse HTML bytes[0..len).  charset comes from the Content-Type header
** (NULL: a <meta> charset, else UTF-8).  Fills *out, whose strings are
** freed by html_text_free(), whatever the input. */
void html_to_text(const char *bytes, size_t len, const char *charset,
                  html_text *out);
void html_text_free(html_text *t);
/* Plain text to UTF-8: converted from charset when given and known; else
** kept when valid UTF-8, else read as Windows-1252.  NUL bytes become
** spaces.  Caller frees with free(); *out_len gets the length. */
char *html_plain_to_utf8(const char *bytes, size_t len, const char *charset,
                         size_t *out_len);

/* ---------------------------------------------------------------- indexer/fetch.c
** Downloading the linked pages (libcurl) and storing their text. */
#define FETCH_OTHER    0   /* not text: recorded, skipped */
#define FETCH_HTML     1
#define FETCH_TEXT     2
#define FETCH_MARKDOWN 3
/* Classify a Content-Type header value.  *charset (caller frees; NULL
** when none) gets its charset parameter, lower-cased. */
int fetch_classify(const char *content_type, char **charset);

/* ---------------------------------------------------------------- core/db.c
** The handle. */
struct cns {
  sqlite3 *db;
  char *root;        /* absolute, no trailing slash */
  char *index_path;
  int flags;
  buf err;
  char *notice;
  volatile int interrupted; /* set by cns_interrupt() */
  cns_config cfg;    /* ROOT/.cnsearch/config */
  cfg_stamp cfg_at;  /* that file as it was just before it was read */
  char *fresh_path;  /* a new index being built as INDEX-new (db.c), else NULL */
  int fresh_fd;      /* INDEX-new, flock()ed while fresh_path is set */
  int fresh_bad;     /* an update failed in it: cns_close() throws it away */
  int resident;      /* a long-lived process (the watcher) searches it: the
                        page cache stays as it is (search.c) */
  int watching;      /* this process is the index's watcher, which does
                        FTS5's merges (store_automerge()) */
};
int cns_seterr(cns *h, int rc, const char *fmt, ...) CNS_PRINTF(3, 4);
int cns_dberr(cns *h, const char *what);   /* CNS_EDB/ECORRUPT/EBUSY from the db state */
/* How long a connection waits for another cnsearch's lock on the index. */
#define DB_BUSY_MS 10000
int db_rc_to_cns(int sqlite_rc);
int db_publish(cns *h);  /* rename a new index into place (db.c); CNS_* */
int db_config_changed(const cns *h); /* ROOT/.cnsearch/config since it was read */

/* ---------------------------------------------------------------- indexer/serve.c
** The watcher's socket, INDEX-sync/.sock: searches ask the running
** watcher to answer them.  See serve.c for the exchange. */
/* Run the request (the CLI's bytes) on h: the exit code, with what the
** search prints written to out and its messages in err; -1 declines
** (the search then runs itself).  A watcher given one answers searches. */
typedef int (*cns_serve_fn)(void *arg, cns *h, const char *req, size_t len,
                            FILE *out, buf *err);
/* cns_watch() that also answers searches with serve (may be NULL). */
int cns_watch_serving(cns *h, long idle_s, cns_watch_fn report,
                      cns_serve_fn serve, void *arg);
int srv_listen(const char *index_path);          /* listening fd, or -1 */
void srv_unlisten(int fd, const char *index_path);
/* Accept one search: its connection, with *fresh and the request in
** req; -1 if none came, or not from this user; -2 if the socket itself
** fails.  srv_output() is a stream for the answer (a memory file; NULL
** if none can be made; caller fcloses); srv_reply() sends the exit code
** (-1: declined), err, and what out holds, and closes the connection. */
int srv_accept(int lfd, buf *req, int *fresh);
/* Has the search at the other end of connection c gone (closed it)? */
int srv_gone(int c);
FILE *srv_output(void);
void srv_reply(int c, int code, FILE *out, const buf *err);
/* The search's side: 1 when the watcher answered, with the exit code,
** a memory file holding the output (-1: none; caller closes) and the
** messages appended to err; 0 when nobody answered (nothing was written
** anywhere); -1 when *stop was set while waiting. */
int cns_serve_ask(const char *index_path, int fresh, const char *req,
                  size_t len, const volatile sig_atomic_t *stop, int *code,
                  int *out_fd, buf *err);

/* ---------------------------------------------------------------- query/qparse.c
** Query text to a plan: an FTS5 MATCH expression plus structured filters.
** Pure: no I/O, no SQL execution. */
#define QP_F_PATH    1   /* regex on the note's path */
#define QP_F_HEADING 2   /* regex on a section's heading path */
#define QP_F_URL     3   /* regex on a link URL in the section */
#define QP_F_TITLE   4   /* regex on the note's title */
#define QP_F_TEXT    5   /* regex on the note's source; hits are the matches */
#define QP_F_TAG     6   /* exact tag (arg: tag, lower-case, no '#') */
#define QP_F_AFTER   7   /* note date >= arg (YYYY[-MM[-DD]]) */
#define QP_F_BEFORE  8   /* note date <  arg */
#define QP_F_LINKS_TO    9   /* notes linking to the note arg names */
#define QP_F_LINKED_FROM 10  /* notes the note arg names links to */

typedef struct qp_filter {
  int field;         /* QP_F_* */
  int negated;       /* '-' or NOT in front */
  int caseless;      /* /re/i */
  char *arg;         /* the PCRE2 pattern, tag or date */
  char *source;      /* the filter as typed, for messages */
} qp_filter;

/* One positive word or phrase of the query, for positions and snippets. */
typedef struct qp_term {
  char *text;        /* the word or phrase as typed (no quotes) */
  int prefix;        /* ends in '*' */
  int column;        /* -1 any; else 0 title, 1 heading, 2 link, 3 body */
} qp_term;

typedef struct qp_plan {
  char *match;       /* FTS5 expression over (title, heading, link, body); NULL if none */
  char *match_any;   /* qp_fallback(plan, NULL, 0): the ranking fallback; NULL if none */
  char *exclude;     /* FTS5 expression of notes to leave out when match is NULL */
  char *excluded;    /* what NOT/- leave out (ORed) when match is set, else NULL */
  qp_term *terms;
  size_t nterms;
  qp_filter *filters;
  size_t nfilters;   /* all ANDed with the match */
} qp_plan;

/* Compile q[0..len).  On success *out is a plan the caller frees with
** qp_plan_free().  On error returns CNS_EQUERY and writes a one-line
** message (no "cnsearch:" prefix) to err. */
int qp_compile(const char *q, size_t len, qp_plan **out, buf *err);
void qp_plan_free(qp_plan *p);
/* Whether s[0..n) is a stopword ("the", "of", "what"; ASCII case folded). */
int qp_stopword(const char *s, size_t n);
/* The fallback (tier 1) expression: the positive terms ORed, less the
** stopwords among them unless all are, then each of extra[0..nextra) as a
** quoted word, all NOT what the query excludes.  *ntyped (if not NULL)
** gets the number of the query's own terms written; they come first, so
** FTS5 numbers their phrases 0..*ntyped-1.  NULL when there is no positive
** term; else the caller frees with free(). */
char *qp_fallback(const qp_plan *pl, const char *const *extra, size_t nextra,
                  size_t *ntyped);

/* ---------------------------------------------------------------- query/regex.c
** The only file that includes pcre2.h.  A compiled pattern with bounded
** matching (match and depth limits, JIT where available). */
typedef struct rx rx;
/* Compile pattern (UTF mode; caseless when asked).  On error returns
** CNS_EQUERY with "bad regex '/PAT/' at offset N: MESSAGE" in err. */
int rx_compile(const char *pattern, int caseless, rx **out, buf *err);
void rx_free(rx *r);
/* PCRE2's JIT looks for a pattern's first characters in 16-byte loads,
** which may read up to this many bytes past the subject's end. */
#define RX_SLACK 16
/* Find the first match in text[start..len): 1 found (*ms,*me set),
** 0 none, CNS_ELIMIT when the match limit was hit (message in err).
** RX_SLACK readable bytes must follow text[len] (zip.c's unpacked notes
** have them); rx_find_copy() matches a copy of a text that may not. */
int rx_find(rx *r, const char *text, size_t len, size_t start, size_t *ms,
            size_t *me, buf *err);
int rx_find_copy(rx *r, const char *text, size_t len, size_t start,
                 size_t *ms, size_t *me, buf *err);
/* An FTS5 expression over a trigram table that every text the pattern can
** match satisfies: the AND of the trigrams of the literal runs the
** pattern requires.  NULL when nothing can be required (then a scan is
** needed).  caseless: the pattern is matched as /re/i.  Caller frees with
** free(). */
char *rx_trigram_query(const char *pattern, int caseless);
/* Register regexp(pattern, text) and regexpi(pattern, text) on db. */
int rx_register(sqlite3 *db);

/* ---------------------------------------------------------------- query/rank.c
** Register cns_rank(), BM25 with per-phrase weights, on db. */
int rank_register(sqlite3 *db);

/* ---------------------------------------------------------------- query/snippet.c
** Pure text work on one note: line/column of a byte offset and a one-line
** snippet around a match. */
typedef struct snip_range {
  size_t start, end; /* byte range in the note */
} snip_range;

/* 1-based line and byte column of off in text, counting from `from`,
** the start of line from_line (0 and 1 count from the top; a section's
** offset and line save counting a long note from its start each hit). */
void snip_linecol(const char *text, size_t len, size_t from, long from_line,
                  size_t off, long *line, long *col);
/* Build a one-line snippet of about width bytes around the first range,
** from text[0..len) (whitespace runs folded, never cut inside a UTF-8
** sequence).  Marks for every range that falls inside the snippet are
** appended to *marks as [start,end) offsets into *out. */
void snip_make(const char *text, size_t len, const snip_range *r, size_t nr,
               int width, buf *out, size_t **marks, size_t *nmarks);

/* ---------------------------------------------------------------- query/print.c
** One printer interface; one implementation per output format. */
typedef struct printer printer;
struct printer {
  void (*begin)(printer *p);
  void (*hit)(printer *p, const cns_hit *h);
  void (*end)(printer *p);
  void (*free)(printer *p);
  /* shared settings, filled by the CLI */
  int color;
  int null_sep;
  int absolute;
  const char *root;   /* notes root, to print paths */
  const char *cwd;
  FILE *out;          /* where it writes; NULL: stdout */
  void *state;
};

printer *print_human_new(void);
printer *print_vimgrep_new(void);
printer *print_json_new(void);
printer *print_files_new(void);
printer *print_count_new(void);
/* Shared by the printers (defined in print.c). */
extern const char print_sgr_path[], print_sgr_line[], print_sgr_heading[],
    print_sgr_match[], print_sgr_reset[];
void print_open(FILE *f);       /* print to f (NULL: stdout) from now on */
void print_emit(buf *b);        /* write b out, reset it; flush on a tty */
void print_flush(void);         /* flush what print_open() named */
/* The shown path: escaped, or raw under null_sep. */
void print_add_path(buf *b, const printer *p, const char *relpath);
void print_add_text(buf *b, const char *s, size_t n); /* controls -> space */
void print_add_json(buf *b, const char *s);  /* quoted JSON string; NULL -> null */
/* A raw snippet offset mapped to the offset after U+FFFD repair. */
size_t print_json_offset(const char *s, size_t off);

/* The path to show for a note path relative to root: relative to cwd when
** below it, else absolute.  Caller frees with free(). */
char *print_path(const printer *p, const char *relpath);

#endif /* CNSINT_H */
