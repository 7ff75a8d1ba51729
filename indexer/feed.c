/*
** feed.c -- read and parse notes on a second thread, ahead of the writer.
**
** Adding a note is two jobs of similar weight: reading, parsing (md.c),
** compressing and tokenizing it (store_doc_make), which touch no shared
** state, and writing it to SQLite, which must happen on the connection's
** thread, in one transaction.  On two cores they overlap: a feed runs the
** first job for the notes of an update, in order, on its own thread,
** while the caller writes the ones already done.  The caller takes notes
** in the order it gave them, so the index is the same as without the
** thread.  FTS5 tokenizes inside the insert, so the feed records each
** note's tokens on a tape that the insert replays (tok.c): without that,
** the tokenizing fell to the writer, which the load then waited on while
** the feed sat a third idle.
**
** The feed runs at most FEED_SLOTS notes and FEED_BYTES of text and
** tapes ahead (always at least one), so memory stays bounded whatever the
** notes' sizes; when it gets that far ahead it sleeps until the writer
** has taken half, and it frees the notes the writer took itself.  A
** small update (fewer than FEED_MIN_THREAD notes, like the one file a
** user just saved) does the work inline, and records no tape, which
** would only add a copy there: a thread would cost more than it saves.
** Signals stay with the caller's thread, which alone acts on an
** interrupt; feed_end() stops the thread wherever it is.
**
** Ownership: feed_start() copies nothing -- db, root, the entries and the
** bodies' dictionary (zip.c) must outlive the feed.  Each item belongs to
** the feed; the caller hands it back with feed_release() before taking
** the next.
*/
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cnsint.h"

#define FEED_SLOTS 64
#define FEED_BYTES (32u << 20)
#define FEED_MIN_THREAD 16
#define MAX_NOTE_BYTES (256LL << 20)

struct feed {
  const char *root;
  const scan_entry *const *v;
  size_t n;
  feed_item ring[FEED_SLOTS];
  size_t made, taken;  /* items made and released so far */
  size_t freed;        /* released items the making thread has freed */
  size_t queued_bytes; /* text and tapes of made, unreleased items */
  int stop, threaded;
  int idle;            /* the making thread waits for room */
  zip_ctx *zip;        /* the making thread's */
  tok_ctx *tok;        /* the thread's tokenizer; NULL: record no tapes */
  pthread_t th;
  pthread_mutex_t mu;
  pthread_cond_t can_make, can_take;
};

/* ---- making one item (no shared state) ------------------------------ */

/* Read a whole regular file, refusing symlinks and anything too large. */
static int read_file(const char *path, char **text, size_t *len,
                     struct stat *st) {
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  int ok = fd >= 0 && fstat(fd, st) == 0 && st->st_size <= MAX_NOTE_BYTES;
  buf b = BUF_INIT;
  buf_add(&b, "", 0);
  if (ok) {
    char chunk[65536];
    ssize_t n;
    while ((n = read(fd, chunk, sizeof chunk)) > 0 &&
           b.len < (size_t)MAX_NOTE_BYTES)
      buf_add(&b, chunk, (size_t)n);
    ok = n >= 0;
  }
  if (fd >= 0) close(fd);
  *len = b.len;
  *text = buf_detach(&b);
  return ok;
}

/* The title of a note without one: its file name, less the extension. */
static char *fallback_title(const char *rel) {
  const char *base = strrchr(rel, '/');
  base = base ? base + 1 : rel;
  const char *dot = strrchr(base, '.');
  return cns_xstrndup(base, dot && dot != base ? (size_t)(dot - base)
                                               : strlen(base));
}

static void make_item(const char *root, zip_ctx *zip, tok_ctx *tok,
                      const scan_entry *e, feed_item *it) {
  struct stat sb;
  memset(it, 0, sizeof *it);
  it->e = e;
  char *path = cns_xasprintf("%s/%s", root, e->path);
  int ok = read_file(path, &it->text, &it->len, &sb);
  free(path);
  if (!ok) return;
  it->title = fallback_title(e->path);
  if (md_note_parse(it->text, it->len, it->title, &it->md) != CNS_OK) return;
  long long mtime =
      (long long)sb.st_mtim.tv_sec * 1000000000LL + sb.st_mtim.tv_nsec;
  store_doc_make(&it->doc, zip, tok, e->path, (long long)sb.st_size, mtime,
                 it->text, it->len, &it->md);
  it->ok = 1;
}

static void free_item(feed_item *it) {
  if (it->ok) store_doc_free(&it->doc);
  md_note_free(&it->md);
  free(it->title);
  free(it->text);
  memset(it, 0, sizeof *it);
}

/* ---- the thread ----------------------------------------------------- */

/* What an item holds that counts against FEED_BYTES. */
static size_t item_bytes(const feed_item *it) {
  return it->len + tok_tape_bytes(&it->doc.tape);
}

static int has_room(const feed *f) {
  size_t ahead = f->made - f->taken;
  return ahead == 0 || (ahead < FEED_SLOTS && f->queued_bytes < FEED_BYTES);
}

/* Whether a waiting making thread has work again: half the slots and
** half the bytes free.  Waking it for every released note made both
** threads switch once a note (a futex call and a context switch each,
** 3-4% of the writer's time on a slow machine); waking it at half makes
** it run FEED_SLOTS / 2 notes per wake. */
static int worth_waking(const feed *f) {
  size_t ahead = f->made - f->taken;
  return ahead <= FEED_SLOTS / 2 && f->queued_bytes <= FEED_BYTES / 2;
}

/* The making thread frees what the writer released (with f->mu held on
** entry and exit): the writer is the one the load waits on, and freeing
** on the thread that allocated keeps malloc from locking its arena
** against the other thread. */
static void reclaim(feed *f) {
  while (f->freed < f->taken) {
    size_t end = f->taken;
    pthread_mutex_unlock(&f->mu);
    for (size_t i = f->freed; i < end; i++)
      free_item(&f->ring[i % FEED_SLOTS]);
    pthread_mutex_lock(&f->mu);
    f->freed = end;
  }
}

static void *run(void *arg) {
  feed *f = arg;
  pthread_mutex_lock(&f->mu);
  while (!f->stop && f->made < f->n) {
    reclaim(f);
    if (!has_room(f)) {
      f->idle = 1;
      while (!f->stop && !worth_waking(f))
        pthread_cond_wait(&f->can_make, &f->mu);
      f->idle = 0;
      continue;
    }
    size_t i = f->made;
    pthread_mutex_unlock(&f->mu);
    feed_item *it = &f->ring[i % FEED_SLOTS];
    make_item(f->root, f->zip, f->tok, f->v[i], it);
    pthread_mutex_lock(&f->mu);
    f->queued_bytes += item_bytes(it);
    f->made++;
    pthread_cond_signal(&f->can_take);
  }
  pthread_mutex_unlock(&f->mu);
  return NULL;
}

/* ---- the caller's side ---------------------------------------------- */

unsigned feed_sample(const char *root, const scan_entry *const *v, size_t n,
                     buf *out, size_t *sizes) {
  unsigned k = 0;
  size_t want = n < ZIP_SAMPLES ? n : ZIP_SAMPLES;
  for (size_t i = 0; i < want; i++) {
    char *path = cns_xasprintf("%s/%s", root, v[i * n / want]->path);
    /* O_NONBLOCK: a FIFO put where a note was must not hang the load */
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    free(path);
    if (fd < 0) continue;
    char chunk[ZIP_SAMPLE_BYTES];
    ssize_t got = read(fd, chunk, sizeof chunk);
    close(fd);
    if (got <= 0) continue;
    buf_add(out, chunk, (size_t)got);
    sizes[k++] = (size_t)got;
  }
  return k;
}

feed *feed_start(sqlite3 *db, const char *root, const scan_entry *const *v,
                 size_t n, const zip_dict *dict) {
  feed *f = cns_xcalloc(1, sizeof *f);
  f->root = root;
  f->v = v;
  f->n = n;
  f->zip = zip_new(dict);
  pthread_mutex_init(&f->mu, NULL);
  pthread_cond_init(&f->can_make, NULL);
  pthread_cond_init(&f->can_take, NULL);
  /* without a thread (too few notes, or none to be had) feed_next()
  ** makes each item itself; without a tokenizer (tok_open failed) the
  ** writer tokenizes, as it would anyway */
  if (n >= FEED_MIN_THREAD && tok_open(db, &f->tok) != SQLITE_OK)
    f->tok = NULL;
  f->threaded = n >= FEED_MIN_THREAD && cns_spawn(&f->th, run, f);
  if (!f->threaded) {
    tok_close(f->tok);
    f->tok = NULL;
  }
  return f;
}

feed_item *feed_next(feed *f) {
  if (f->taken == f->n) return NULL;
  feed_item *it = &f->ring[f->taken % FEED_SLOTS];
  if (!f->threaded) {
    make_item(f->root, f->zip, NULL, f->v[f->taken], it);
    f->made = f->taken + 1;
    return it;
  }
  pthread_mutex_lock(&f->mu);
  while (f->made == f->taken) pthread_cond_wait(&f->can_take, &f->mu);
  pthread_mutex_unlock(&f->mu);
  return it;
}

void feed_release(feed *f, feed_item *it) {
  if (!f->threaded) {
    free_item(it);
    f->freed = ++f->taken;
    return;
  }
  size_t len = item_bytes(it);
  pthread_mutex_lock(&f->mu);
  f->queued_bytes -= len;
  f->taken++;
  if (f->idle && worth_waking(f)) pthread_cond_signal(&f->can_make);
  pthread_mutex_unlock(&f->mu);
}

void feed_end(feed *f) {
  if (!f) return;
  if (f->threaded) {
    pthread_mutex_lock(&f->mu);
    f->stop = 1;
    pthread_cond_signal(&f->can_make);
    pthread_mutex_unlock(&f->mu);
    pthread_join(f->th, NULL);
  }
  /* released and not yet freed, or made and never released */
  for (size_t i = f->freed; i < f->made; i++)
    free_item(&f->ring[i % FEED_SLOTS]);
  pthread_mutex_destroy(&f->mu);
  pthread_cond_destroy(&f->can_make);
  pthread_cond_destroy(&f->can_take);
  zip_free(f->zip);
  tok_close(f->tok);
  free(f);
}
