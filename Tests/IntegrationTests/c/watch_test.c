/* Watches through the C ABI: chainkv_watch_open, _next, chainkv_free_change, _close.
 * Usage: watch_test host:port[,host:port...]
 * Prints "C ABI watches: N passed, 0 failed" and exits 0. */
#include "chainkv.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failed = 0, passed = 0;
#define CHECK(cond, ...) do { if (cond) passed++; else { failed++; fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); fprintf(stderr, __VA_ARGS__); fprintf(stderr, "\n"); } } while (0)

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: %s host:port,...\n", argv[0]); return 2; }
    const char *servers[16]; int n = 0;
    char *list = strdup(argv[1]);
    for (char *s = strtok(list, ","); s && n < 15; s = strtok(NULL, ",")) servers[n++] = s;
    servers[n] = NULL;
    CHECK(sizeof(chainkv_change) == 48, "chainkv_change is 48 bytes on LP64 (the library writes it so)");
    CHECK(chainkv_init(servers, 7001) == 0, "init");
    CHECK(chainkv_watch_open("k", "p", NULL) == NULL, "a key and a prefix: NULL");
    CHECK(chainkv_watch_open(NULL, "cw/", "not a cursor") == NULL, "a bad cursor: NULL");
    chainkv_watch *w = chainkv_watch_open(NULL, "cw/", NULL);
    CHECK(w != NULL, "open");
    chainkv_change c;
    CHECK(chainkv_watch_next(w, 1500, &c) == 1, "nothing yet (and the watch knows where now is)");
    CHECK(chainkv_put("cw/a", "one", 3, NULL, NULL) == 1, "put");
    CHECK(chainkv_put("other", "x", 1, NULL, NULL) == 1, "a key outside the prefix");
    CHECK(chainkv_delete("cw/a") == 0, "delete");
    CHECK(chainkv_put("cw/b", "two", 3, NULL, NULL) == 1, "put");
    char *cursor = NULL; uint64_t first = 0;
    CHECK(chainkv_watch_next(w, 10000, &c) == 0 && strcmp(c.key, "cw/a") == 0 && !c.deleted && c.value_len == 3 &&
          memcmp(c.value, "one", 3) == 0, "the put");
    first = c.version; cursor = strdup(c.cursor);
    chainkv_free_change(&c);
    CHECK(chainkv_watch_next(w, 10000, &c) == 0 && strcmp(c.key, "cw/a") == 0 && c.deleted && c.value == NULL && c.version > first,
          "the delete, after it");
    chainkv_free_change(&c);
    CHECK(chainkv_watch_next(w, 10000, &c) == 0 && strcmp(c.key, "cw/b") == 0, "the second put");
    chainkv_free_change(&c);
    chainkv_watch_close(w);

    chainkv_watch *again = chainkv_watch_open(NULL, "cw/", cursor);
    CHECK(again != NULL, "open after a cursor");
    CHECK(chainkv_watch_next(again, 10000, &c) == 0 && strcmp(c.key, "cw/a") == 0 && c.deleted, "resumes just after the first change");
    chainkv_free_change(&c);
    chainkv_watch_close(again);
    free(cursor);
    CHECK(chainkv_watch_next(NULL, 10, &c) == -3, "NULL watch: -3");
    CHECK(chainkv_shutdown() == 0, "shutdown");
    printf("C ABI watches: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
