/*
** serve.c -- the watcher's socket: a search asks the running watcher to
** answer it.
**
** A search that runs in its own process pays, before it reads a single
** posting, for loading the program, opening the index, parsing its
** schema, preparing its statements and faulting in fresh memory; on a
** slow machine that is most of its time.  The watcher (watch.c) has all
** of that done already.  So it listens on a socket, INDEX-sync/.sock
** (the folder is the watcher's, mode 0700), and a search that finds it
** there sends its request and lets the watcher run it.  The transport
** lives here; what a request means is the CLI's business (cli/serve.c).
**
** One exchange, over a SOCK_SEQPACKET connection (one message per send):
**
**   search  -> watcher   'Q', fresh flag, then the CLI's request bytes
**   watcher -> search    'W'  (working on it)
**   watcher -> search    'R', exit code (int32, -1: declined), length of
**                        the error text (uint32), the text; and when the
**                        search printed anything, a memfd holding it,
**                        passed with SCM_RIGHTS
**
** The output travels whole, at the end, in a memory file the search
** printed into: the watcher never writes to the searcher's terminal or
** pipe, so a reader that stops reading (a pager) blocks the search, not
** the watcher, and a search that dies has written nothing.  That makes
** falling back safe: a search that cannot connect at once (no watcher,
** or a full queue), gets no 'W' within ASK_WAIT_MS (the watcher is busy
** with an update), finds the watcher stopped (Ctrl-Z) while it waits
** for the answer, sees the connection end without an 'R', or is
** declined, runs the search itself, and nothing is printed twice.  A
** "fresh" request asks the watcher first to apply every change made
** before it (watch.c), as cns_watcher_sync() does for a search that
** walks.  Both sides check the peer's user id (SO_PEERCRED).
**
** A path too long for sockaddr_un (108 bytes) means no socket: searches
** then open the index themselves, as they do when no watcher runs.
*/
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "cnsint.h"

#define ASK_WAIT_MS 250    /* a search waits this long for 'W' */
#define REQUEST_WAIT_MS 200 /* the watcher waits this long for 'Q' */
#define REQUEST_MAX 65536  /* larger requests are declined */

/* INDEX-sync/.sock in a sockaddr_un; 0 when the path is too long. */
static int sock_addr(const char *index_path, struct sockaddr_un *a) {
  memset(a, 0, sizeof *a);
  a->sun_family = AF_UNIX;
  int n = snprintf(a->sun_path, sizeof a->sun_path, "%s-sync/.sock",
                   index_path);
  return n > 0 && (size_t)n < sizeof a->sun_path;
}

/* Is the peer of c this user?  *pid (may be NULL) is its process. */
static int same_user(int c, pid_t *pid) {
  struct ucred cr;
  socklen_t n = sizeof cr;
  if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &n) != 0 ||
      cr.uid != geteuid())
    return 0;
  if (pid) *pid = cr.pid;
  return 1;
}

int srv_listen(const char *index_path) {
  struct sockaddr_un a;
  if (!sock_addr(index_path, &a)) return -1;
  unlink(a.sun_path); /* a dead watcher's; the lock says we are the one */
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 64) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

void srv_unlisten(int fd, const char *index_path) {
  struct sockaddr_un a;
  if (fd < 0) return;
  close(fd);
  if (sock_addr(index_path, &a)) unlink(a.sun_path);
}

/* Wait up to ms for c to be readable: 1, or 0 on timeout or error. */
static int wait_readable(int c, int ms) {
  struct pollfd pf = {c, POLLIN, 0};
  int r;
  while ((r = poll(&pf, 1, ms)) < 0 && errno == EINTR) {}
  return r > 0;
}

int srv_accept(int lfd, buf *req, int *fresh) {
  int c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (c < 0)
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
                   errno == ECONNABORTED
               ? -1
               : -2;
  char *m = cns_xmalloc(REQUEST_MAX);
  ssize_t n = -1;
  if (same_user(c, NULL) && wait_readable(c, REQUEST_WAIT_MS)) {
    struct iovec iov = {m, REQUEST_MAX};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    n = recvmsg(c, &mh, 0);
    if (mh.msg_flags & MSG_TRUNC) n = -1;
  }
  if (n < 2 || m[0] != 'Q' ||
      send(c, "W", 1, MSG_NOSIGNAL | MSG_DONTWAIT) != 1) {
    free(m);
    close(c);
    return -1;
  }
  *fresh = m[1] == 1;
  buf_reset(req);
  buf_add(req, m + 2, (size_t)n - 2);
  free(m);
  return c;
}

int srv_gone(int c) {
  struct pollfd pf = {c, POLLRDHUP, 0};
  return poll(&pf, 1, 0) > 0 &&
         (pf.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

FILE *srv_output(void) {
  int fd = memfd_create("cnsearch-answer", MFD_CLOEXEC);
  FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
  if (fd >= 0 && !f) close(fd);
  return f;
}

void srv_reply(int c, int code, FILE *out, const buf *err) {
  int fd = code >= 0 && out && ftell(out) > 0 ? fileno(out) : -1;
  int32_t rc = code;
  uint32_t elen = code >= 0 ? (uint32_t)err->len : 0;
  char head[9];
  head[0] = 'R';
  memcpy(head + 1, &rc, 4);
  memcpy(head + 5, &elen, 4);
  struct iovec iov[2] = {{head, sizeof head}, {err->p, elen}};
  struct msghdr mh = {.msg_iov = iov, .msg_iovlen = elen ? 2 : 1};
  union {
    struct cmsghdr h;
    char b[CMSG_SPACE(sizeof(int))];
  } ctl;
  if (fd >= 0) {
    memset(&ctl, 0, sizeof ctl);
    mh.msg_control = ctl.b;
    mh.msg_controllen = sizeof ctl.b;
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd, sizeof fd);
  }
  /* a search that gave up is gone: nothing to do about a failed send */
  ssize_t n = sendmsg(c, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
  (void)n;
  close(c);
}

/* ------------------------------------------------------------ the search */

/* Connect to the index's watcher: the socket, or -1; *pid is the
** watcher's process.  The socket does not block: a full queue of
** connections (a watcher stopped, or busy for long) is EAGAIN, not a
** wait. */
static int connect_watcher(const char *index_path, pid_t *pid) {
  struct sockaddr_un a;
  if (!sock_addr(index_path, &a)) return -1;
  int c = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c < 0) return -1;
  if (connect(c, (struct sockaddr *)&a, sizeof a) != 0 || !same_user(c, pid)) {
    close(c);
    return -1;
  }
  return c;
}

/* Is process pid stopped (Ctrl-Z, SIGSTOP) or gone? */
static int stopped(pid_t pid) {
  char path[64], st[256];
  snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 1;
  ssize_t n = read(fd, st, sizeof st - 1);
  close(fd);
  if (n <= 0) return 1;
  st[n] = 0;
  const char *p = strrchr(st, ')'); /* the state follows the name */
  return !p || p[1] != ' ' || p[2] == 'T' || p[2] == 't' || p[2] == 'Z';
}

/* Send the request; 1 if the watcher took it up ('W') in time. */
static int send_request(int c, int fresh, const char *req, size_t len) {
  char head[2] = {'Q', fresh ? 1 : 0}, w;
  struct iovec iov[2] = {{head, 2}, {(void *)req, len}};
  struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
  if (len + 2 > REQUEST_MAX || sendmsg(c, &mh, MSG_NOSIGNAL) < 0) return 0;
  return wait_readable(c, ASK_WAIT_MS) && recv(c, &w, 1, 0) == 1 && w == 'W';
}

/* The fd passed with mh, or -1. */
static int passed_fd(struct msghdr *mh) {
  int fd = -1;
  for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm))
    if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
        cm->cmsg_len == CMSG_LEN(sizeof(int)))
      memcpy(&fd, CMSG_DATA(cm), sizeof fd);
  return fd;
}

/* Wait for the reply until *stop is set (a signal's handler sets it):
** 1 when it can be read, -1 when stopped, 0 when the watcher has been
** stopped (nothing is printed yet, so the search can run itself).  A
** watcher at work is waited for however long the search takes. */
static int await_reply(int c, pid_t pid, const volatile sig_atomic_t *stop) {
  struct pollfd pf = {c, POLLIN, 0};
  for (;;) {
    if (stop && *stop) return -1;
    int r = poll(&pf, 1, 100);
    if (r > 0) return 1;
    if (r < 0 && errno != EINTR) return 1; /* recvmsg() tells what is wrong */
    if (r == 0 && stopped(pid)) return 0;
  }
}

/* Read the 'R' message: 1 with *code, *out_fd (-1: no output) and the
** error text in err; 0 if the watcher ended without one. */
static int read_reply(int c, int *code, int *out_fd, buf *err) {
  char *m = cns_xmalloc(REQUEST_MAX);
  union {
    struct cmsghdr h;
    char b[CMSG_SPACE(sizeof(int))];
  } ctl;
  struct iovec iov = {m, REQUEST_MAX};
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1,
                      .msg_control = ctl.b, .msg_controllen = sizeof ctl.b};
  ssize_t n = recvmsg(c, &mh, MSG_CMSG_CLOEXEC);
  int got = 0, fd = n > 0 ? passed_fd(&mh) : -1;
  int32_t rc;
  uint32_t elen;
  if (n >= 9 && m[0] == 'R' && !(mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
    memcpy(&rc, m + 1, 4);
    memcpy(&elen, m + 5, 4);
    if ((size_t)n == 9 + (size_t)elen && rc >= 0) {
      buf_add(err, m + 9, elen);
      *code = rc;
      *out_fd = fd;
      fd = -1;
      got = 1;
    }
  }
  if (fd >= 0) close(fd);
  free(m);
  return got;
}

int cns_serve_ask(const char *index_path, int fresh, const char *req,
                  size_t len, const volatile sig_atomic_t *stop, int *code,
                  int *out_fd, buf *err) {
  pid_t pid = 0;
  int c = connect_watcher(index_path, &pid), got = 0;
  if (c < 0) return 0;
  if (send_request(c, fresh, req, len) &&
      (got = await_reply(c, pid, stop)) > 0)
    got = read_reply(c, code, out_fd, err);
  close(c);
  return got;
}
