// HMAC-SHA256 of the shared-secret handshake, from the system's libcrypto (OpenSSL; Debian's
// libssl-dev). NIOSSL's BoringSSL copy has its own prefixed symbols, so the two do not clash.
#include <openssl/evp.h>
#include <openssl/hmac.h>
