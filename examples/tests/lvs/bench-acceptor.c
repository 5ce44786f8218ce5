/* Real server for the VM benchmarks (bench-startup.sh): listens on
 * 127.0.0.1:PORT and closes every connection as soon as it is accepted,
 * in one process without forking, so that a TCP_CHECK costs the guest a
 * connect and an accept only (busybox httpd forks per connection).
 * On SIGUSR1 it prints "accepted N", the connections accepted so far
 * (the checks one checker made, when each checker has its own port).
 * Build on the host: cc -O2 -o /tmp/bench-acceptor bench-acceptor.c */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static volatile sig_atomic_t report;

static void on_usr1(int sig)
{
    (void)sig;
    report = 1;
}

int main(int argc, char **argv)
{
    int port = argc > 1 ? atoi(argv[1]) : 8081;
    int one = 1;
    unsigned long long accepted = 0;
    struct sockaddr_in a = { .sin_family = AF_INET,
                             .sin_port = htons(port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    /* No SA_RESTART: the signal interrupts accept, which then reports. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0
        || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 65535) < 0) {
        perror("bench-acceptor");
        return 1;
    }
    for (;;) {
        int c = accept(fd, NULL, NULL);
        if (c >= 0) {
            close(c);
            accepted++;
        }
        if (report) {
            report = 0;
            printf("accepted %llu\n", accepted);
            fflush(stdout);
        }
    }
}
