/* The floor of any once-a-second sidecar: sleep one second, wake, do nothing.
 * scripts/measure-floor.sh measures its CPU time per wake-up. */
#include <time.h>

int main(void) {
    for (;;) {
        struct timespec second = {1, 0};
        nanosleep(&second, 0);
    }
}
