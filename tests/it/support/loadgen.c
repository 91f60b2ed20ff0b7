/*
 * loadgen: the workload of the daemon-mode tests (tests/it/daemon.rs), built static by
 * scripts/e2e-docker.sh and imported as an image FROM scratch (nothing can be pulled here).
 *
 *   loadgen MIB SECONDS EXIT_CODE
 *
 * Touches MIB MiB of anonymous memory (so the container's working set holds them), then
 * spins on one CPU for SECONDS seconds (0: forever) and exits with EXIT_CODE. SIGTERM ends
 * it at once with EXIT_CODE as well, so `docker stop` gives the code the test chose.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static void on_term(int sig) { (void)sig; stop = 1; }

int main(int argc, char **argv) {
    if (argc != 4) {
        static const char usage[] = "usage: loadgen MIB SECONDS EXIT_CODE\n";
        (void)!write(2, usage, sizeof usage - 1);
        return 2;
    }
    long mib = strtol(argv[1], NULL, 10);
    long seconds = strtol(argv[2], NULL, 10);
    int code = (int)strtol(argv[3], NULL, 10);
    signal(SIGTERM, on_term);
    size_t bytes = (size_t)(mib > 0 ? mib : 0) << 20;
    char *held = bytes ? malloc(bytes) : NULL;
    if (bytes && !held) return 3;
    if (held) memset(held, 0x5a, bytes);
    time_t end = time(NULL) + seconds;
    volatile unsigned long spin = 0;
    while (!stop && (seconds == 0 || time(NULL) < end)) {
        for (int i = 0; i < 1000000; i++) spin += (unsigned long)i;
    }
    /* Keep the memory live to the end. */
    if (held) (void)!write(1, held, 0);
    return code;
}
