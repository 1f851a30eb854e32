"""chainkv through its C ABI (libchainkv.so) with ctypes: the paper's five calls."""
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

    def shutdown(self):
        return self.lib.chainkv_shutdown()

    def die(self, server, clean):
        return self.lib.chainkv_die(server.encode(), 1 if clean else 0)
