/* timeshift.c - LD_PRELOAD shim for tests: time() returns the real time plus
 * $MCPAUTH_TEST_TIME_OFFSET seconds. run.sh starts one `mcpauth serve` replica with it to
 * play a server whose clock is ahead, so that states, consent forms and codes sealed by the
 * other replicas look expired to it (libmcpauth reads the clock through time()). */
#include <stdlib.h>
#include <time.h>

time_t time(time_t *out);

time_t time(time_t *out) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    const char *o = getenv("MCPAUTH_TEST_TIME_OFFSET");
    time_t t = ts.tv_sec + (o ? (time_t)strtoll(o, NULL, 10) : 0);
    if (out) *out = t;
    return t;
}
