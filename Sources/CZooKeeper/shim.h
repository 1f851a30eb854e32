// THREADED selects the multi-threaded API of libzookeeper_mt (zoo_a* completions on the library's thread).
#define THREADED 1
#include <zookeeper/zookeeper.h>
// ZOO_OPEN_ACL_UNSAFE is a mutable C global; Swift 6 refuses to touch it directly.
static inline struct ACL_vector *czk_open_acl_unsafe(void) { return &ZOO_OPEN_ACL_UNSAFE; }
// The ACL of a protected znode: the session's authenticated identities (scheme "auth": the server
// puts in the digest id "user:base64(sha1(user:password))" of the credentials added with
// zoo_add_auth) may do anything with it, everyone else may only read it. Static storage, never
// written: zoo_acreate and zoo_amulti serialize the ACL into their request before they return.
static inline const struct ACL_vector *czk_protected_acl(void) {
    // ZOO_PERM_ALL and ZOO_PERM_READ are extern consts, not constant expressions: their values,
    // fixed by the wire protocol (ZooDefs.Perms: READ 1, WRITE 2, CREATE 4, DELETE 8, ADMIN 16).
    static struct ACL acl[2] = {
        { 31, { (char *)"auth", (char *)"" } },
        { 1, { (char *)"world", (char *)"anyone" } },
    };
    static const struct ACL_vector v = { 2, acl };
    return &v;
}
// Creates a znode with czk_protected_acl().
static inline int czk_acreate_protected(zhandle_t *zh, const char *path, const char *value, int valuelen,
                                        int flags, string_completion_t completion, const void *data) {
    return zoo_acreate(zh, path, value, valuelen, czk_protected_acl(), flags, completion, data);
}
