// THREADED selects the multi-threaded API of libzookeeper_mt (zoo_a* completions on the library's thread).
#define THREADED 1
#include <zookeeper/zookeeper.h>
// ZOO_OPEN_ACL_UNSAFE is a mutable C global; Swift 6 refuses to touch it directly.
static inline struct ACL_vector *czk_open_acl_unsafe(void) { return &ZOO_OPEN_ACL_UNSAFE; }
