/* Scans through the C ABI: chainkv_scan and chainkv_free_entries, beside the five.
 * Usage: scan_test host:port[,host:port...]
 * Prints "C ABI scans: N passed, 0 failed" and exits 0. */
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
    CHECK(sizeof(chainkv_entry) == 32, "chainkv_entry is 32 bytes on LP64 (the library writes it so)");
    CHECK(chainkv_init(servers, 7001) == 0, "init");
    char key[32], value[32];
    for (int i = 0; i < 12; i++) {
        snprintf(key, sizeof key, "cs/%02d", i);
        snprintf(value, sizeof value, "value %d", i);
        CHECK(chainkv_put(key, value, strlen(value), NULL, NULL) == 1, "put %s", key);
    }
    CHECK(chainkv_put("ct", "x", 1, NULL, NULL) == 1, "a key after the prefix");

    chainkv_entry *entries = NULL; size_t count = 99; char *next = NULL;
    CHECK(chainkv_scan("cs/", NULL, NULL, NULL, 5, &entries, &count, &next) == 0, "first page");
    CHECK(count == 5 && strcmp(entries[0].key, "cs/00") == 0 && strcmp(entries[4].key, "cs/04") == 0, "five keys in order");
    CHECK(entries[2].value_len == 7 && memcmp(entries[2].value, "value 2", 7) == 0 && entries[2].value[7] == 0, "values, NUL after");
    uint64_t version = 0; char *v = NULL; size_t len = 0;
    CHECK(chainkv_get_version("cs/02", &v, &len, &version) == 0 && version == entries[2].version, "versions as get_version's");
    chainkv_free(v);
    CHECK(next != NULL && strcmp(next, "cs/04") == 0, "next names the last key");
    chainkv_free_entries(entries, count);

    size_t total = 5;
    while (next != NULL) {
        char *after = next;
        CHECK(chainkv_scan("cs/", NULL, NULL, after, 5, &entries, &count, &next) == 0, "page after %s", after);
        total += count;
        chainkv_free_entries(entries, count);
        chainkv_free(after);
    }
    CHECK(total == 12, "every key of the prefix once (%zu)", total);

    CHECK(chainkv_scan(NULL, "cs/10", "ct", NULL, 100, &entries, &count, &next) == 0, "a range");
    CHECK(count == 2 && strcmp(entries[1].key, "cs/11") == 0 && next == NULL, "cs/10 and cs/11, done");
    chainkv_free_entries(entries, count);
    CHECK(chainkv_scan("nothing/", NULL, NULL, NULL, 10, &entries, &count, &next) == 0 && count == 0 && next == NULL, "no key");
    chainkv_free_entries(entries, count);
    CHECK(chainkv_scan("cs/", "a", NULL, NULL, 10, &entries, &count, &next) == -3, "a prefix and a range: -3");
    CHECK(chainkv_scan("cs/", NULL, NULL, NULL, 0, &entries, &count, &next) == -3, "limit 0: -3");
    CHECK(chainkv_scan("cs/", NULL, NULL, NULL, 10001, &entries, &count, &next) == -3, "limit over 10000: -3");
    CHECK(chainkv_scan("cs/", NULL, NULL, NULL, 10, NULL, &count, &next) == -3, "NULL entries: -3");
    CHECK(chainkv_shutdown() == 0, "shutdown");
    printf("C ABI scans: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
