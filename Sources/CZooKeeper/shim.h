// THREADED selects the multi-threaded API of libzookeeper_mt (zoo_a* completions on the library's thread).
#define THREADED 1
#include <zookeeper/zookeeper.h>
// ZOO_OPEN_ACL_UNSAFE is a mutable C global; Swift 6 refuses to touch it directly.
static inline struct ACL_vector *czk_open_acl_unsafe(void) { return &ZOO_OPEN_ACL_UNSAFE; }
// Creates a znode that the session's authenticated identities (scheme "auth": the server puts in
// the digest id "user:base64(sha1(user:password))" of the credentials added with zoo_add_auth) may
// do anything with, and everyone else may only read. zoo_acreate serializes the ACL into its
// request before it returns, so the ACL may live on this function's stack.
static inline int czk_acreate_protected(zhandle_t *zh, const char *path, const char *value, int valuelen,
                                        int flags, string_completion_t completion, const void *data) {
    struct ACL acl[2];
    acl[0].perms = ZOO_PERM_ALL;
    acl[0].id.scheme = (char *)"auth";
    acl[0].id.id = (char *)"";
    acl[1].perms = ZOO_PERM_READ;
    acl[1].id.scheme = (char *)"world";
    acl[1].id.id = (char *)"anyone";
    struct ACL_vector v = { 2, acl };
    return zoo_acreate(zh, path, value, valuelen, &v, flags, completion, data);
}
