/* A client that initialises during an outage and works once the cluster is back, without calling
 * chainkv_init again. Usage: outage_test host:port[,...] prefix count seconds
 * Prints "init N" at once, then keeps reading keys <prefix>-0 .. <prefix>-(count-1) until each
 * reads back as "value-<prefix>-<i>" (or the seconds run out). Exit 0 when all did. */
#include "chainkv.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 5) { fprintf(stderr, "usage: %s host:port,... prefix count seconds\n", argv[0]); return 2; }
    const char *servers[16]; int n = 0;
    char *list = strdup(argv[1]);
    for (char *s = strtok(list, ","); s && n < 15; s = strtok(NULL, ",")) servers[n++] = s;
    servers[n] = NULL;
    const char *prefix = argv[2];
    int count = atoi(argv[3]);
    time_t deadline = time(NULL) + atoi(argv[4]);

    printf("init %d\n", chainkv_init(servers, 7001));
    fflush(stdout);
    int next = 0, network_errors = 0;
    while (next < count && time(NULL) < deadline) {
        char key[128], want[128];
        snprintf(key, sizeof key, "%s-%d", prefix, next);
        snprintf(want, sizeof want, "value-%s-%d", prefix, next);
        char *v = NULL; size_t len = 0;
        int rc = chainkv_get(key, &v, &len);
        if (rc == 0 && len == strlen(want) && memcmp(v, want, len) == 0) {
            next++;
        } else if (rc == 0 || rc == 1) {
            fprintf(stderr, "FAIL %s: status %d, %zu bytes, not the acknowledged value\n", key, rc, len);
            chainkv_free(v);
            return 1;
        } else {
            network_errors++;
            usleep(100 * 1000);
        }
        chainkv_free(v);
    }
    printf("read back %d of %d (%d calls failed while the cluster was down)\n", next, count, network_errors);
    chainkv_shutdown();
    return next == count ? 0 : 1;
}
