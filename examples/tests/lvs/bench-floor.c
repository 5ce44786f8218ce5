/* The floor of steady TCP checking (bench-startup.sh steady): N checks a
 * second against 127.0.0.1:PORT from one epoll loop with nothing else in
 * it, each a TCP connect that completes. Check i of N starts at i/N s and
 * again every second after its previous start. MODE is how a check is
 * made, to find the cheapest way of making the same checks:
 *   fin    keepalived 2.2.7's TCP_CHECK: non-blocking socket, SO_LINGER
 *          on with 5 s, connect, wait until writable, getsockopt
 *          SO_ERROR, close (a FIN);
 *   rst    the same with SO_LINGER 0 (close sends an RST, no TIME_WAIT),
 *          as keepalived-lite;
 *   reuse  one socket per target for the whole run, registered with
 *          epoll once (edge-triggered): connect, wait until writable,
 *          SO_ERROR, then connect(AF_UNSPEC), which resets the connection
 *          (an RST) and leaves the socket unconnected, ready for the next
 *          check: no socket(), close() or epoll_ctl per check.
 * WAKEUPS > 0 starts the checks in batches: the loop only wakes on a grid
 * of 1/WAKEUPS s and starts every check due by then (each at most that
 * late); 0 (default) wakes once per check.
 * Prints nothing unless it cannot work; runs until killed.
 * Build on the host: cc -O2 -o /tmp/bench-floor bench-floor.c
 * Usage: bench-floor [PORT] [N] [MODE] [WAKEUPS]   (default 8081 100 fin 0) */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CHECKS 100000
#define NS 1000000000LL

enum mode { FIN, RST, REUSE };

static enum mode mode;
static int ep;
static struct sockaddr_in target;
/* reuse: the socket of each target, and whether its check is under way. */
static int socks[MAX_CHECKS];
static char connecting[MAX_CHECKS];

static long long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * NS + t.tv_nsec;
}

/* Writable (or failed): read the connect's status, then close or, in
 * reuse, disconnect (the kernel resets the connection). */
static void finish(int fd)
{
    static const struct sockaddr unspec = { .sa_family = AF_UNSPEC };
    int status = 0;
    socklen_t len = sizeof status;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &status, &len);
    if (mode == REUSE)
        connect(fd, &unspec, sizeof unspec);
    else
        close(fd);
}

/* A new socket with the mode's linger, registered with epoll for
 * writability (edge-triggered in reuse, where it stays registered). */
static int new_socket(void)
{
    struct linger li = { .l_onoff = 1, .l_linger = mode == FIN ? 5 : 0 };
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_TCP);
    if (fd < 0)
        return -1;
    if (mode != REUSE)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &li, sizeof li);
    return fd;
}

/* Check `id`: the socket (reuse: the target's own), connect, and the wait
 * for writability. */
static void start(long id)
{
    int fd = mode == REUSE ? socks[id] : new_socket();
    if (fd < 0 || (mode == REUSE && connecting[id]))
        return;
    if (connect(fd, (const struct sockaddr *)&target, sizeof target) == 0) {
        finish(fd);
        return;
    }
    if (errno != EINPROGRESS) {
        if (mode != REUSE)
            close(fd);
        return;
    }
    if (mode == REUSE) {
        connecting[id] = 1;
        return;
    }
    struct epoll_event ev = { .events = EPOLLOUT, .data.fd = fd };
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
        close(fd);
}

/* reuse: one socket per target, registered once, known by its index. */
static int make_sockets(long n)
{
    for (long i = 0; i < n; i++) {
        socks[i] = new_socket();
        struct epoll_event ev = { .events = EPOLLOUT | EPOLLET, .data.u64 = (unsigned long)i };
        if (socks[i] < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, socks[i], &ev) < 0)
            return -1;
    }
    return 0;
}

static int parse_mode(const char *m)
{
    if (strcmp(m, "fin") == 0)
        mode = FIN;
    else if (strcmp(m, "rst") == 0)
        mode = RST;
    else if (strcmp(m, "reuse") == 0)
        mode = REUSE;
    else
        return -1;
    return 0;
}

/* An event ends a check under way; in reuse, the events of a socket
 * between its checks (its reset's) are ignored. */
static void completed(const struct epoll_event *ev)
{
    if (mode != REUSE) {
        finish(ev->data.fd);
    } else if (ev->data.u64 < MAX_CHECKS && connecting[ev->data.u64]) {
        connecting[ev->data.u64] = 0;
        finish(socks[ev->data.u64]);
    }
}

int main(int argc, char **argv)
{
    int port = argc > 1 ? atoi(argv[1]) : 8081;
    long n = argc > 2 ? atol(argv[2]) : 100;
    long wakeups = argc > 4 ? atol(argv[4]) : 0;
    target = (struct sockaddr_in){ .sin_family = AF_INET,
                                   .sin_port = htons(port),
                                   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0 || n < 1 || n > MAX_CHECKS || parse_mode(argc > 3 ? argv[3] : "fin") < 0
        || wakeups < 0 || wakeups > 1000 || (mode == REUSE && make_sockets(n) < 0)) {
        fprintf(stderr, "bench-floor: usage: bench-floor [PORT] [N <= %d] [fin|rst|reuse] [WAKEUPS <= 1000]\n",
                MAX_CHECKS);
        return 1;
    }
    long long step = NS / n, t0 = now_ns(), next = t0;
    long long grid = wakeups ? NS / wakeups : 1;
    long id = 0;
    struct epoll_event evs[256];
    for (;;) {
        /* The next wake-up: the next check, rounded up to the grid. */
        long long wake = t0 + (next - t0 + grid - 1) / grid * grid;
        long long wait_ns = wake - now_ns();
        int ms = wait_ns > 0 ? (int)((wait_ns + 999999) / 1000000) : 0;
        int k = epoll_wait(ep, evs, 256, ms);
        for (int i = 0; i < k; i++)
            completed(&evs[i]);
        if (now_ns() < wake)
            continue;
        /* Every check due by now, each rescheduled one second on. */
        while (next <= now_ns()) {
            start(id);
            id = (id + 1) % n;
            next += step;
        }
    }
}
