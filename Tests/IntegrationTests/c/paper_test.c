/* The paper's API through the C ABI: status codes, old values, sizes, delete, die.
 * Usage: paper_test host:port[,host:port...]   Prints "C ABI: N passed, 0 failed" and exits 0. */
#include "chainkv.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failed = 0, passed = 0;
#define CHECK(cond, ...) do { if (cond) passed++; else { failed++; fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); fprintf(stderr, __VA_ARGS__); fprintf(stderr, "\n"); } } while (0)

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: %s host:port,...\n", argv[0]); return 2; }
    const char *servers[16]; int n = 0;
    char *list = strdup(argv[1]);
    for (char *s = strtok(list, ","); s && n < 15; s = strtok(NULL, ",")) servers[n++] = s;
    servers[n] = NULL;

    const char *none[] = { "127.0.0.1:1", NULL };
    CHECK(chainkv_init(none, 0) == -1, "init with no reachable server is -1");
    CHECK(chainkv_init(servers, 7001) == 0, "init");

    char *v = NULL; size_t len = 0;
    CHECK(chainkv_get("c-missing", &v, &len) == 1, "get of a key never written is 1");
    CHECK(chainkv_put("c-key", "one", 3, NULL, NULL) == 1, "first put is 1");
    char *old = NULL; size_t old_len = 0;
    CHECK(chainkv_put("c-key", "two!", 4, &old, &old_len) == 0, "update is 0");
    CHECK(old && old_len == 3 && memcmp(old, "one", 3) == 0, "old value returned");
    chainkv_free(old);
    CHECK(chainkv_get("c-key", &v, &len) == 0 && len == 4 && memcmp(v, "two!", 4) == 0, "get returns the value");
    chainkv_free(v);

    /* binary value with NUL bytes, and the limits */
    char bin[5] = { 'a', 0, 'b', 0, 'c' };
    CHECK(chainkv_put("c-bin", bin, 5, NULL, NULL) == 1, "binary put");
    CHECK(chainkv_get("c-bin", &v, &len) == 0 && len == 5 && memcmp(v, bin, 5) == 0, "binary round trip");
    chainkv_free(v);
    size_t big = 1 << 20;
    char *value = malloc(big + 1); memset(value, 'x', big + 1);
    CHECK(chainkv_put("c-big", value, big, NULL, NULL) == 1, "1 MiB value");
    CHECK(chainkv_put("c-big", value, big + 1, NULL, NULL) == -3, "value over 1 MiB is -3");
    char key[1026]; memset(key, 'k', 1025); key[1025] = 0;
    CHECK(chainkv_put(key, "v", 1, NULL, NULL) == -3, "key over 1 KiB is -3");
    key[1024] = 0;
    CHECK(chainkv_put(key, "v", 1, NULL, NULL) == 1, "1 KiB key");
    CHECK(chainkv_get(NULL, &v, &len) == -3, "NULL key is -3");
    free(value);

    CHECK(chainkv_delete("c-key") == 0, "delete existing is 0");
    CHECK(chainkv_delete("c-key") == 1, "delete missing is 1");
    CHECK(chainkv_get("c-key", &v, &len) == 1, "deleted key is missing");

    CHECK(chainkv_shutdown() == 0, "shutdown");
    CHECK(chainkv_init(servers, 7001) == 0, "init again after shutdown");
    CHECK(chainkv_get("c-bin", &v, &len) == 0, "works after re-init");
    chainkv_free(v);
    if (argc > 2) CHECK(chainkv_die(argv[2], 0) == 0, "die (unclean) acknowledged");
    chainkv_shutdown();
    printf("C ABI: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
