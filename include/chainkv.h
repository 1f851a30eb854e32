/* chainkv: C ABI of the client library (libchainkv.so).
 * The design paper's five calls, plus delete and free. See README.md, "C and Python".
 * Keys are NUL-terminated strings of at most 1 KiB; values are bytes of at most 1 MiB. */
#ifndef CHAINKV_H
#define CHAINKV_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One client per process; every call is safe from several threads. */
int  chainkv_init(const char *const *servers, int port);
     /* servers: NULL-terminated "host" or "host:port" strings (port used where none is given).
        0: a server answered and the head is known; -1: none reachable now. Either way the
        servers are kept: every later call looks for the head again (until its own timeout), so
        a process that initialised during an outage works once the cluster is back. */
int  chainkv_get(const char *key, char **value, size_t *value_len);
     /* 0: found, *value is a malloc'd copy (release with chainkv_free); 1: no such key;
        -1: network error; -3: bad argument (NULL, key over the limit). */
int  chainkv_put(const char *key, const char *value, size_t value_len,
                 char **old_value, size_t *old_len);
     /* 0: key existed, its old value returned like get's (old_value may be NULL: not wanted);
        1: new key; -2: replication failed, safe to retry; -1: network error; -3: bad argument. */
int  chainkv_delete(const char *key);      /* 0: deleted, 1: no such key, -1, -2, -3 as above */
int  chainkv_shutdown(void);               /* 0; closes connections; init may be called again */
int  chainkv_die(const char *server, int clean);
     /* server: "host:port" as in init. clean=1: it leaves the chain through the leader, then exits;
        clean=0: it exits at once, like a crash. 0: the server acknowledged; -1: unreachable. */
void chainkv_free(void *p);

#ifdef __cplusplus
}
#endif

#endif /* CHAINKV_H */
