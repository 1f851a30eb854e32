"""chainkv through its C ABI (libchainkvc.so) with ctypes: the paper's five calls, versions and conditional writes."""
import ctypes
import os


class ChainKV:
    def __init__(self, library):
        lib = ctypes.CDLL(library)
        lib.chainkv_init.argtypes = [ctypes.POINTER(ctypes.c_char_p), ctypes.c_int]
        lib.chainkv_get.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_size_t)]
        lib.chainkv_put.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t,
                                    ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_size_t)]
        lib.chainkv_delete.argtypes = [ctypes.c_char_p]
        lib.chainkv_die.argtypes = [ctypes.c_char_p, ctypes.c_int]
        lib.chainkv_free.argtypes = [ctypes.c_void_p]
        lib.chainkv_get_version.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_size_t),
                                            ctypes.POINTER(ctypes.c_uint64)]
        lib.chainkv_put_if.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint64,
                                       ctypes.POINTER(ctypes.c_uint64)]
        lib.chainkv_delete_if.argtypes = [ctypes.c_char_p, ctypes.c_uint64, ctypes.POINTER(ctypes.c_uint64)]
        self.lib = lib

    def init(self, servers, port=7001):
        arr = (ctypes.c_char_p * (len(servers) + 1))(*[s.encode() for s in servers], None)
        return self.lib.chainkv_init(arr, port)

    def _take(self, ptr, n):
        data = ctypes.string_at(ptr, n.value)
        self.lib.chainkv_free(ptr)
        return data

    def get(self, key):
        ptr, n = ctypes.c_void_p(), ctypes.c_size_t()
        rc = self.lib.chainkv_get(key.encode(), ctypes.byref(ptr), ctypes.byref(n))
        return rc, (self._take(ptr, n) if rc == 0 else None)

    def put(self, key, value):
        ptr, n = ctypes.c_void_p(), ctypes.c_size_t()
        rc = self.lib.chainkv_put(key.encode(), value, len(value), ctypes.byref(ptr), ctypes.byref(n))
        return rc, (self._take(ptr, n) if rc == 0 else None)

    def delete(self, key):
        return self.lib.chainkv_delete(key.encode())

    ANY_VERSION = 2**64 - 1
    CONDITION_FAILED = 2

    def get_version(self, key):
        """(rc, value or None, version): rc 0 found, 1 absent (version 0)."""
        ptr, n, v = ctypes.c_void_p(), ctypes.c_size_t(), ctypes.c_uint64()
        rc = self.lib.chainkv_get_version(key.encode(), ctypes.byref(ptr), ctypes.byref(n), ctypes.byref(v))
        return rc, (self._take(ptr, n) if rc == 0 else None), v.value

    def put_if(self, key, value, if_version=ANY_VERSION):
        """(rc, version): rc 0 applied (the version created), 2 condition failed (the current version)."""
        v = ctypes.c_uint64()
        rc = self.lib.chainkv_put_if(key.encode(), value, len(value), if_version, ctypes.byref(v))
        return rc, v.value

    def delete_if(self, key, if_version=ANY_VERSION):
        v = ctypes.c_uint64()
        rc = self.lib.chainkv_delete_if(key.encode(), if_version, ctypes.byref(v))
        return rc, v.value

    def shutdown(self):
        return self.lib.chainkv_shutdown()

    def die(self, server, clean):
        return self.lib.chainkv_die(server.encode(), 1 if clean else 0)
