/* The floor of steady TCP checking (bench-startup.sh steady): N checks a
 * second against 127.0.0.1:PORT, made the way keepalived 2.2.7's
 * TCP_CHECK makes one (non-blocking socket, SO_LINGER on with 5 s,
 * connect, wait until writable, getsockopt SO_ERROR, close), from one
 * epoll loop with nothing else in it. Check i of N starts at i/N s and
 * again every second after its previous start. Whatever CPU this takes,
 * any checker that makes the same connections pays at least as much.
 * Prints nothing unless it cannot work; runs until killed.
 * Build on the host: cc -O2 -o /tmp/bench-floor bench-floor.c
 * Usage: bench-floor [PORT] [N]   (default 8081 100) */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CHECKS 100000

static long long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* Writable (or failed): read the connect's status and close, as a check does. */
static void finish(int fd)
{
    int status = 0;
    socklen_t len = sizeof status;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &status, &len);
    close(fd);
}

/* One check: the socket, connect, and the wait for writability. */
static void start(int ep, const struct sockaddr_in *a)
{
    struct linger li = { .l_onoff = 1, .l_linger = 5 };
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_TCP);
    if (fd < 0)
        return;
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &li, sizeof li);
    if (connect(fd, (const struct sockaddr *)a, sizeof *a) == 0) {
        finish(fd);
        return;
    }
    if (errno != EINPROGRESS) {
        close(fd);
        return;
    }
    struct epoll_event ev = { .events = EPOLLOUT, .data.fd = fd };
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
        close(fd);
}

int main(int argc, char **argv)
{
    int port = argc > 1 ? atoi(argv[1]) : 8081;
    long n = argc > 2 ? atol(argv[2]) : 100;
    struct sockaddr_in a = { .sin_family = AF_INET,
                             .sin_port = htons(port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0 || n < 1 || n > MAX_CHECKS) {
        fprintf(stderr, "bench-floor: usage: bench-floor [PORT] [N <= %d]\n", MAX_CHECKS);
        return 1;
    }
    long long step = 1000000000LL / n, next = now_ns();
    struct epoll_event evs[64];
    for (;;) {
        long long wait_ns = next - now_ns();
        int ms = wait_ns > 0 ? (int)((wait_ns + 999999) / 1000000) : 0;
        int k = epoll_wait(ep, evs, 64, ms);
        for (int i = 0; i < k; i++)
            finish(evs[i].data.fd);
        /* Every check due by now, each rescheduled one second on. */
        while (next <= now_ns()) {
            start(ep, &a);
            next += step;
        }
    }
}
