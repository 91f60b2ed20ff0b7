/* The floor of one exporter cycle's I/O: wake once a second and make the two requests a
 * cycle needs (GET <base>/task, GET <base>/task/stats) on one keep-alive loopback
 * connection, reading each whole response; no parsing, no output. Blocking sockets, no
 * event loop: the least work any program can do for that I/O.
 *
 *   two_gets PORT BASE_PATH      (the simulator on 127.0.0.1:PORT, e.g. /v4/sim-0001)
 *
 * scripts/measure-floor.sh measures its CPU time per cycle. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static char response[4 << 20];

static int get(int sock, const char *path) {
    char request[512];
    int n = snprintf(request, sizeof request,
                     "GET %s HTTP/1.1\r\nhost: 127.0.0.1\r\naccept: */*\r\n\r\n", path);
    if (n <= 0 || n >= (int)sizeof request || write(sock, request, n) != n) return -1;
    long got = 0, need = -1;
    while (need < 0 || got < need) {
        ssize_t r = read(sock, response + got, sizeof response - 1 - got);
        if (r <= 0) return -1;
        got += r;
        response[got] = 0;
        char *end = strstr(response, "\r\n\r\n");
        char *length = strcasestr(response, "content-length:");
        if (end && length && length < end) need = (end + 4 - response) + atol(length + 15);
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 3) return 2;
    char task[256], stats[256];
    snprintf(task, sizeof task, "%s/task", argv[2]);
    snprintf(stats, sizeof stats, "%s/task/stats", argv[2]);
    int sock = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(atoi(argv[1]));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(sock, (struct sockaddr *)&addr, sizeof addr) != 0) return 1;
    for (;;) {
        if (get(sock, task) || get(sock, stats)) return 1;
        struct timespec second = {1, 0};
        nanosleep(&second, 0);
    }
}
