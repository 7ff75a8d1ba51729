/*
** cnsearch.h -- the whole public API of the cnsearch library.
**
** A cns handle is one notes root plus the SQLite index that caches it.
** Everything the command line does goes through these calls: open the
** index, bring it up to date, check it, and run searches that hand back
** hits one at a time.  Nothing in the library prints or exits; every
** failing call returns a CNS_E* code and leaves a one-line message, in
** git's shape ("cannot open 'x': No such file or directory"), that
** cns_errmsg() returns until the next call on the same handle.
**
** Ownership: every object made by a cns_*_new/_open call is freed by the
** matching _free/_close call, and those accept NULL.  Strings inside a
** cns_hit are owned by the search and valid until the next
** cns_search_next() or cns_search_free().
*/
#ifndef CNSEARCH_H
#define CNSEARCH_H

#include <stddef.h>
#include <stdint.h>

#define CNS_VERSION "0.1.0"

/* Return codes.  CNS_OK is zero; errors are positive. */
#define CNS_OK       0
#define CNS_DONE     1   /* iterator exhausted (not an error) */
#define CNS_EUSAGE   2   /* the caller (the user) asked for something invalid */
#define CNS_EQUERY   3   /* the query does not parse, or a regex does not compile */
#define CNS_EIO      4   /* a file or folder could not be read or written */
#define CNS_EDB      5   /* SQLite failed */
#define CNS_ECORRUPT 6   /* the index file is damaged */
#define CNS_EBUSY    7   /* another process holds the index too long */
#define CNS_ELIMIT   8   /* a resource limit was hit (regex match limit, size) */
#define CNS_EINTR    9   /* interrupted by a signal; work rolled back */

typedef struct cns cns;
typedef struct cns_search cns_search;

/* Flags for cns_open(). */
#define CNS_OPEN_READONLY  0x01  /* never write the index (searching with --no-update) */
#define CNS_OPEN_CREATE    0x02  /* create the index (and its folder) if missing */
#define CNS_OPEN_REBUILD   0x04  /* replace a damaged index with a new one */

/*
** Open the index at index_path for the notes under root.  On success
** *out is a handle the caller frees with cns_close().  On failure *out is
** NULL, the return code says why and *errmsg (if errmsg is not NULL)
** receives a message the caller frees with free().
*/
int cns_open(const char *root, const char *index_path, int flags,
             cns **out, char **errmsg);
void cns_close(cns *db);
const char *cns_errmsg(const cns *db);

/* A notice the library wants shown (e.g. "index rebuilt: it was made by
** another version"), or NULL.  Owned by the handle; cleared on read. */
const char *cns_take_notice(cns *db);

/* Counters reported by cns_update(). */
typedef struct cns_update_stats {
  long scanned;      /* files seen by the walk */
  long added;        /* new notes indexed */
  long changed;      /* notes re-indexed because size or mtime changed */
  long removed;      /* notes dropped because their file is gone */
  long skipped;      /* files that could not be read (reported, not fatal) */
  long long bytes;   /* bytes of markdown parsed */
} cns_update_stats;

/* Progress callback for long updates; may be NULL. */
typedef void (*cns_progress_fn)(void *arg, long done, long total);

/*
** Bring the index up to date with the notes on disk, in one transaction.
** With rebuild non-zero every note is dropped and indexed again.  On
** failure the index is left as it was before the call.
*/
int cns_update(cns *db, int rebuild, cns_update_stats *stats,
               cns_progress_fn progress, void *progress_arg);

/* The same for some notes only: paths are relative to the notes root
** (no "." or ".." parts, no trailing '/'; "" is the root), each a note
** file or a folder, which stands for every note below it.  What the walk
** would list there is brought up to date; notes that are gone leave the
** index.  Costs the depth of the paths, not the size of the notes. */
int cns_update_paths(cns *db, const char *const *paths, size_t n,
                     cns_update_stats *stats);

/* Throw the index away and start an empty one (for a damaged index:
** it is only a cache of the notes). */
int cns_reset(cns *db);

/* Ask a running cns_update() on this handle to stop: it rolls back and
** returns CNS_EINTR.  Safe to call from a signal handler. */
void cns_interrupt(cns *db);

/* Verify the index: SQLite integrity, FTS5 integrity and cnsearch's own
** invariants.  CNS_OK when all hold, CNS_ECORRUPT with a message if not. */
int cns_check(cns *db);

/* One place where a query matched. */
typedef struct cns_hit {
  const char *path;      /* note path relative to the notes root */
  const char *title;     /* the note's title */
  const char *heading;   /* heading path, " › " between levels; "" before the first heading */
  const char *snippet;   /* one line of plain text around the match */
  const size_t *marks;   /* 2*nmarks byte offsets into snippet: [start,end) pairs */
  size_t nmarks;
  const char *date;      /* front matter or file name date, or NULL */
  const char *via_url;   /* set when the hit was found through a linked page */
  const char *via_title;
  const char *via_text;  /* the anchor text of the link, for linked pages */
  long line, column;     /* 1-based; column in bytes */
  long end_column;       /* column just past the matched text on that line */
  double score;          /* higher is better */
  int tier;              /* 0: all words matched; 1: fallback (some words) */
  const char *explain;   /* how the score was formed, when asked for, else NULL */
} cns_hit;

/* Search options. */
typedef struct cns_search_opts {
  long limit;            /* hits to return; 0 means all; < 0 the config's */
  int files_only;        /* one hit per note (for -l): skips snippets */
  int snippet_width;     /* bytes of context in a snippet; 0 the config's */
  int explain;           /* fill cns_hit.explain */
  int sort;              /* CNS_SORT_* */
  int no_linked;         /* search the notes alone, not the pages they link */
  const char *cwd;       /* the folder a note named by a relative path in
                            links-to:/linked-from: is found from; NULL:
                            the current one */
} cns_search_opts;

#define CNS_SORT_RANK 0
#define CNS_SORT_PATH 1
#define CNS_SORT_DATE 2

/*
** Compile and start a search.  On success *out is a search the caller
** frees with cns_search_free().  A query the parser rejects returns
** CNS_EQUERY with a message naming the problem and its place.
*/
int cns_search_new(cns *db, const char *query, const cns_search_opts *opts,
                   cns_search **out);
/* Next hit: CNS_OK with *hit set, CNS_DONE at the end, or an error. */
int cns_search_next(cns_search *s, const cns_hit **hit);
void cns_search_free(cns_search *s);

/* Suggestions for a query that found nothing: up to max indexed terms
** within edit distance 2 of the query's words, most frequent first.
** Returns a string "a, b" the caller frees with free(), or NULL. */
char *cns_suggest(cns *db, const char *query, int max);

/* ---- linked pages (docs/linked-pages.md) ----------------------------- */

/* Options for cns_fetch(); zero means the default. */
typedef struct cns_fetch_opts {
  int jobs;              /* downloads at once (default 8; at most 2 per host) */
  int refresh;           /* fetch every linked page again, revalidating */
  long max_age_days;     /* > 0: fetch again pages older than this */
  long timeout;          /* seconds for one download (default 30) */
  long connect_timeout;  /* seconds to connect (default 10, <= timeout) */
} cns_fetch_opts;

/* Counters reported by cns_fetch() and handed to its progress callback. */
typedef struct cns_fetch_stats {
  long total;            /* pages to fetch or re-check this run */
  long done;             /* of those, finished */
  long fetched;          /* downloaded (or read) and stored with their text */
  long unchanged;        /* revalidated (304 Not Modified, file unchanged) */
  long skipped;          /* not text (images, PDFs...): recorded, no text */
  long failed;           /* errors, recorded: cns_fetch_failures() lists them */
  long pruned;           /* stored pages no note links any more, dropped */
  long long bytes;       /* bytes received */
} cns_fetch_stats;

typedef void (*cns_fetch_progress_fn)(void *arg, const cns_fetch_stats *st);

/*
** Download every http(s) page the notes link to that the index does not
** hold yet (every one with opts->refresh, or those older than
** opts->max_age_days), and read linked local text files (.html, .rst,
** .org...), storing their text for search.  Failures of single pages are
** recorded and counted, not returned: the result is CNS_OK unless the
** index cannot be written, or CNS_EINTR after cns_interrupt() -- and
** even then every page finished so far is kept.  Does not bring the
** notes themselves up to date; call cns_update() first.
*/
int cns_fetch(cns *db, const cns_fetch_opts *opts, cns_fetch_stats *stats,
              cns_fetch_progress_fn progress, void *progress_arg);

/* Call fn(arg, url, error) for every page whose last fetch failed, in
** URL order.  The strings are valid during the call only. */
typedef void (*cns_failure_fn)(void *arg, const char *url,
                               const char *error);
int cns_fetch_failures(cns *db, cns_failure_fn fn, void *arg);

/* ---- the link graph ----------------------------------------------------- */

#define CNS_LINK_INLINE 0    /* [text](url), autolinks, bare URLs */
#define CNS_LINK_IMAGE  1    /* ![alt](url) */
#define CNS_LINK_WIKI   2    /* [[Title]] */

#define CNS_TARGET_NONE 0    /* dangling: no such note or file, outside the
                                notes folder, or a scheme not followed */
#define CNS_TARGET_NOTE 1    /* a note (possibly the same one: "#anchor") */
#define CNS_TARGET_PAGE 2    /* a web page or a local non-note file */

/* One link into or out of a note.  Strings are owned by the cns_links and
** valid until the next cns_links_next() or cns_links_free(). */
typedef struct cns_link {
  int outgoing;          /* 1: a link in the note; 0: a backlink to it */
  const char *path;      /* the note holding the link, relative to the root */
  long line, column;     /* 1-based; column in bytes */
  int kind;              /* CNS_LINK_* */
  const char *text;      /* anchor (or alt) text; "" if none */
  const char *url;       /* the destination as written */
  int target_kind;       /* CNS_TARGET_* */
  const char *target;    /* note path (relative to the root), URL or file
                            path; NULL when CNS_TARGET_NONE */
  const char *target_title; /* the note's or fetched page's title, or NULL */
} cns_link;

typedef struct cns_links cns_links;

/*
** The links of one note and the links to it (outgoing first, in the
** note's order; then backlinks by path and line).  note is a path
** (absolute, relative to the current folder or to the root, ending
** optional), a title or a file name stem; CNS_EUSAGE when it names no
** note or several.  The caller frees *out with cns_links_free().
*/
int cns_links_new(cns *db, const char *note, cns_links **out);
/* The note's path relative to the root; owned by l. */
const char *cns_links_path(const cns_links *l);
/* Next link: CNS_OK with *link set, or CNS_DONE. */
int cns_links_next(cns_links *l, const cns_link **link);
void cns_links_free(cns_links *l);

/* Keep the index fresh until cns_interrupt(): bring it up to date, then
** update it whenever the notes change, calling report (may be NULL) after
** each update.  With idle_s > 0 it also ends, with CNS_OK, once no search
** has asked it to catch up (cns_watcher_sync()) for idle_s seconds; it
** always ends when the index file is removed or replaced.  CNS_EBUSY when
** another watcher keeps the same index. */
typedef void (*cns_watch_fn)(void *arg, const cns_update_stats *st);
int cns_watch(cns *db, long idle_s, cns_watch_fn report, void *arg);
/* Is a watcher keeping this index fresh right now? */
int cns_watcher_running(cns *db);
/* Did the last watcher of this index fail (an error, not a stop) within
** the last within_s seconds?  Its message is in the file INDEX-watch. */
int cns_watcher_failed(cns *db, long within_s);
/* Ask a running watcher to catch up with every change made so far and
** wait (at most a few seconds) for its answer: 1 when the index is
** current, with *st (may be NULL) the counts of what it still had to
** apply; 0 when no watcher answered, and the caller should update the
** index itself. */
int cns_watcher_sync(cns *db, cns_update_stats *st);

/* What the index holds. */
typedef struct cns_stats {
  long long notes, sections, links, pages, tagged;
  long long note_bytes;   /* size of the notes indexed */
  long long index_bytes;  /* size of the index file (and its WAL) */
  long long updated;      /* when the index was last written, Unix seconds */
} cns_stats;
int cns_get_stats(cns *db, cns_stats *out);
/* How many notes the index holds, from its table of folders (no walk, no
** scan of the notes' rows); -1 when it cannot be read. */
long cns_note_count(cns *db);

/* Call fn for every tag with the number of notes carrying it, most used
** first.  The tag string is valid during the call only. */
typedef void (*cns_tag_fn)(void *arg, const char *tag, long count);
int cns_each_tag(cns *db, cns_tag_fn fn, void *arg);

#endif /* CNSEARCH_H */
