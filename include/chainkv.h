/* chainkv: C ABI of the client library, built by `swift build` as libchainkvc.so (link: -lchainkvc).
 * The design paper's five calls, plus delete and free. See README.md, "C and Python".
 * Keys are NUL-terminated strings of at most 1 KiB; values are bytes of at most 1 MiB. */
#ifndef CHAINKV_H
#define CHAINKV_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One client per process; every call is safe from several threads. */
int  chainkv_init(const char *const *servers, int port);
     /* servers: NULL-terminated "host" or "host:port" strings (port used where none is given).
        0: a server answered and the head is known; -1: none reachable now. Either way the
        servers are kept: every later call looks for the head again (until its own timeout), so
        a process that initialised during an outage works once the cluster is back.
        -3: a bad argument (NULL, an address that cannot be parsed) or a secret or CA file from the
        environment that cannot be used. */
int  chainkv_get(const char *key, char **value, size_t *value_len);
     /* 0: found, *value is a malloc'd copy (release with chainkv_free); 1: no such key;
        -1: network error; -3: bad argument (NULL, key over the limit). */
int  chainkv_put(const char *key, const char *value, size_t value_len,
                 char **old_value, size_t *old_len);
     /* 0: key existed, its old value returned like get's (old_value may be NULL: not wanted);
        1: new key; -2: replication failed, safe to retry; -1: network error; -3: bad argument. */
int  chainkv_delete(const char *key);      /* 0: deleted, 1: no such key, -1, -2, -3 as above */
int  chainkv_shutdown(void);               /* 0 once the connections are closed; init may be called again */
int  chainkv_die(const char *server, int clean);
     /* server: "host:port" as in init. clean=1: it leaves the chain through the leader, then exits;
        clean=0: it exits at once, like a crash. 0: the server acknowledged; -1: unreachable;
        -3: bad argument, or a secret or CA file from the environment that cannot be used. */
void chainkv_free(void *p);

/* Versions and conditional writes (beside the five above, which are unchanged). A key's version
   is the sequence number of the write that last set it, in its chain (in a sharded cluster with
   the chain's number in the low 8 bits, so it never repeats when the key's slot moves: treat it
   as opaque); an absent key's is 0. Each returns what the five do, plus 2: the condition failed,
   nothing was applied, and *version is the key's current version. A retried call never applies
   twice and gets the first answer; one whose answer was lost and whose key's slot then moved to
   another chain returns -2 (it may or may not have applied). version may be NULL for the
   writes (not wanted). */
#define CHAINKV_ANY_VERSION UINT64_MAX   /* if_version meaning "no condition" */
int  chainkv_get_version(const char *key, char **value, size_t *value_len, uint64_t *version);
     /* 0: found, *value as for chainkv_get, *version its version; 1: no such key, *version 0;
        -1, -3 as for get. */
int  chainkv_put_if(const char *key, const char *value, size_t value_len, uint64_t if_version,
                    uint64_t *version);
     /* Sets key only if its version is if_version (0: only if absent; CHAINKV_ANY_VERSION: always).
        0: applied, *version the version it created; 2: condition failed, *version the current one;
        -2, -1, -3 as for put. */
int  chainkv_delete_if(const char *key, uint64_t if_version, uint64_t *version);
     /* As chainkv_put_if, for a delete (0: applied, also when the key was already absent and
        if_version was 0 or CHAINKV_ANY_VERSION). */

/* Scans: keys in the order of their UTF-8 bytes. */
typedef struct {
    char *key;          /* NUL-terminated */
    char *value;        /* value_len bytes, followed by a NUL not counted in value_len */
    size_t value_len;
    uint64_t version;   /* as chainkv_get_version's */
} chainkv_entry;
int  chainkv_scan(const char *prefix, const char *from, const char *to, const char *after, size_t limit,
                  chainkv_entry **entries, size_t *count, char **next);
     /* The keys that start with prefix ("" : every key), or with prefix NULL those from `from`
        (inclusive; NULL: the first key) to `to` (exclusive; NULL: the last); after (NULL: none)
        continues a scan just after that key. At most limit (1 to 10000) entries per call.
        0: *entries holds *count entries (release with chainkv_free_entries, also when *count
        is 0), *next the key to pass as `after` for the rest (release with chainkv_free) or NULL
        when none is left; -1: network error; -3: bad argument (prefix with from or to, a bad
        key, limit out of range). Each chain's part of a call is its committed state at one
        point (README, "Scans"). */
void chainkv_free_entries(chainkv_entry *entries, size_t count);

/* Watches: every committed change of a key or of the keys with a prefix, in each chain's order. */
typedef struct chainkv_watch chainkv_watch;   /* opaque */
typedef struct {
    char *key;          /* NUL-terminated */
    char *value;        /* the new value (value_len bytes and a NUL), or NULL when deleted */
    size_t value_len;
    uint64_t version;   /* the version the change made; with status 3, the oldest version kept */
    char *cursor;       /* pass as `after` to chainkv_watch_open to resume just after this change */
    int deleted;        /* 1: the key was deleted */
} chainkv_change;
chainkv_watch *chainkv_watch_open(const char *key, const char *prefix, const char *after);
     /* A watch of key, or (key NULL) of the keys that start with prefix, from now or just after
        the cursor `after`; it returns once the watch knows where "now" is in every chain, so
        every change committed after it returns is delivered. NULL: not initialised, no head
        answered within the retry budget (10 s), or a bad argument (both or neither of key and
        prefix, a bad key, a bad cursor). */
int  chainkv_watch_next(chainkv_watch *watch, int timeout_ms, chainkv_change *change);
     /* Waits up to timeout_ms for the next change. 0: *change holds it (release its strings
        with chainkv_free_change); 1: none within the timeout; 3: the cursor is older than the
        history a chain keeps (change->version: the oldest version kept; the watch is over);
        -1: the watch ended (network, refused, or over 100,000 changes not taken); -3: NULL. */
void chainkv_free_change(chainkv_change *change);
void chainkv_watch_close(chainkv_watch *watch);   /* stops it and frees it */

#ifdef __cplusplus
}
#endif

#endif /* CHAINKV_H */
