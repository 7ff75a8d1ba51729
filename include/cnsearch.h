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
  long line, column;     /* 1-based; column in bytes */
  long end_column;       /* column just past the matched text on that line */
  double score;          /* higher is better */
  int tier;              /* 0: all words matched; 1: fallback (some words) */
  const char *explain;   /* how the score was formed, when asked for, else NULL */
} cns_hit;

/* Search options. */
typedef struct cns_search_opts {
  long limit;            /* hits to return; 0 means all */
  int files_only;        /* one hit per note (for -l): skips snippets */
  int snippet_width;     /* bytes of context in a snippet (default 160) */
  int explain;           /* fill cns_hit.explain */
  int sort;              /* CNS_SORT_* */
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

#endif /* CNSEARCH_H */
