/* Versions and conditional writes through the C ABI: chainkv_get_version, chainkv_put_if,
 * chainkv_delete_if, beside the five. Usage: versions_test host:port[,host:port...]
 * Prints "C ABI versions: N passed, 0 failed" and exits 0. */
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
    CHECK(chainkv_init(servers, 7001) == 0, "init");

    char *v = NULL; size_t len = 0; uint64_t version = 99, created = 0, current = 0;
    CHECK(chainkv_get_version("cv-key", &v, &len, &version) == 1 && version == 0, "absent: 1, version 0");
    CHECK(chainkv_put_if("cv-key", "one", 3, 0, &created) == 0 && created > 0, "create if absent");
    CHECK(chainkv_put_if("cv-key", "uno", 3, 0, &current) == 2 && current == created, "second create: 2 and the current version");
    CHECK(chainkv_get_version("cv-key", &v, &len, &version) == 0 && len == 3 && memcmp(v, "one", 3) == 0 && version == created,
          "get_version returns the value and the version the put created");
    chainkv_free(v);
    uint64_t second = 0;
    CHECK(chainkv_put_if("cv-key", "two", 3, created, &second) == 0 && second > created, "put on the current version");
    CHECK(chainkv_put_if("cv-key", "two", 3, CHAINKV_ANY_VERSION, NULL) == 0, "unconditional, version not wanted");
    CHECK(chainkv_get_version("cv-key", &v, &len, &version) == 0 && version > second, "the unconditional put made a version");
    chainkv_free(v);
    CHECK(chainkv_delete_if("cv-key", second, &current) == 2 && current == version, "delete on an old version fails");
    CHECK(chainkv_delete_if("cv-key", version, &created) == 0 && created > version, "delete on the current version");
    CHECK(chainkv_get("cv-key", &v, &len) == 1, "the five see it gone");
    CHECK(chainkv_put_if(NULL, "v", 1, 0, NULL) == -3, "NULL key is -3");
    CHECK(chainkv_get_version("cv-key", &v, &len, NULL) == -3, "NULL version is -3");
    CHECK(chainkv_shutdown() == 0, "shutdown");
    printf("C ABI versions: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
