"""chainkv for Python: a client over the C ABI (include/chainkv.h, libchainkvc.so) with ctypes.

    import chainkv
    kv = chainkv.connect(["127.0.0.1:7001"])
    kv.put("k", "v")        # None (new key), else the old value as bytes
    kv.get("k")             # b'v'

Keys and values are str (UTF-8) or bytes; values come back as bytes. Errors are exceptions, all
subclasses of ChainKVError. See clients/python/README.md.
"""
import ctypes
import os
import threading

__all__ = [
    "ANY_VERSION", "ChainKVError", "NetworkError", "ReplicationFailed", "InvalidArgument", "NotFound",
    "ConditionFailed", "Client", "connect", "find_library", "LIBRARY_NAME",
]

LIBRARY_NAME = "libchainkvc.so"
ANY_VERSION = 2**64 - 1
"""if_version meaning "no condition" (CHAINKV_ANY_VERSION)."""

MAX_KEY_BYTES = 1024
MAX_VALUE_BYTES = 1024 * 1024


class ChainKVError(Exception):
    """Any failed call; status is the C status code."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


class NetworkError(ChainKVError):
    """-1: no server answered (the head is looked for again on the next call)."""


class ReplicationFailed(ChainKVError):
    """-2: the chain did not replicate the write; safe to retry."""


class InvalidArgument(ChainKVError, ValueError):
    """-3: a key or value the library refuses (empty key, NUL in a key, over the limits), or an
    unusable CHAINKV_SECRET_FILE / CHAINKV_TLS_CA_FILE."""


class NotFound(ChainKVError, KeyError):
    """1: no such key. Also a KeyError, so `except KeyError` works as for a dict."""

    def __str__(self):
        return Exception.__str__(self)


class ConditionFailed(ChainKVError):
    """2: a versioned write's condition failed and nothing was applied; current is the key's
    current version (0: absent)."""

    def __init__(self, message, current):
        super().__init__(message, 2)
        self.current = current


def _repo_build_libraries():
    """libchainkvc.so in the repository's .build/release and .build/debug, when this package is
    used from the repository (clients/python/chainkv): the newest first."""
    package = os.path.dirname(os.path.abspath(__file__))          # <repo>/clients/python/chainkv
    repo = os.path.dirname(os.path.dirname(os.path.dirname(package)))
    found = [os.path.join(repo, ".build", kind, LIBRARY_NAME) for kind in ("release", "debug")]
    found = [p for p in found if os.path.isfile(p)]
    return sorted(found, key=os.path.getmtime, reverse=True)


def find_library():
    """The path of libchainkvc.so: $CHAINKV_LIB (a file, or a directory holding it), else the file
    next to this package, else the repository's .build/release or .build/debug (the newer)."""
    env = os.environ.get("CHAINKV_LIB")
    if env:
        path = os.path.join(env, LIBRARY_NAME) if os.path.isdir(env) else env
        if not os.path.isfile(path):
            raise ChainKVError(f"CHAINKV_LIB={env}: no such file {path}")
        return path
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), LIBRARY_NAME)
    if os.path.isfile(here):
        return here
    built = _repo_build_libraries()
    if built:
        return built[0]
    raise ChainKVError(f"{LIBRARY_NAME} not found: set CHAINKV_LIB to its path, copy it next to the "
                       f"package, or build it in the repository with `swift build`")


_libraries = {}
_libraries_lock = threading.Lock()


class _Change(ctypes.Structure):
    """chainkv_change of chainkv.h."""
    _fields_ = [("key", ctypes.c_void_p), ("value", ctypes.c_void_p), ("value_len", ctypes.c_size_t),
                ("version", ctypes.c_uint64), ("cursor", ctypes.c_void_p), ("deleted", ctypes.c_int)]


class Compacted(ChainKVError):
    """A watch's cursor is older than the history a chain keeps; .oldest is the oldest version kept."""

    def __init__(self, message, oldest):
        super().__init__(message, 3)
        self.oldest = oldest


class _Entry(ctypes.Structure):
    """chainkv_entry of chainkv.h."""
    _fields_ = [("key", ctypes.c_void_p), ("value", ctypes.c_void_p),
                ("value_len", ctypes.c_size_t), ("version", ctypes.c_uint64)]


MAX_SCAN_LIMIT = 10000


def _load(path):
    """Loads the library once per path and declares the header's signatures."""
    path = os.path.abspath(path)
    with _libraries_lock:
        lib = _libraries.get(path)
        if lib is not None:
            return lib
        lib = ctypes.CDLL(path)
        c = ctypes
        p_void, p_size, p_u64 = c.POINTER(c.c_void_p), c.POINTER(c.c_size_t), c.POINTER(c.c_uint64)
        for name, args in [
            ("chainkv_init", [c.POINTER(c.c_char_p), c.c_int]),
            ("chainkv_get", [c.c_char_p, p_void, p_size]),
            ("chainkv_put", [c.c_char_p, c.c_char_p, c.c_size_t, p_void, p_size]),
            ("chainkv_delete", [c.c_char_p]),
            ("chainkv_shutdown", []),
            ("chainkv_die", [c.c_char_p, c.c_int]),
            ("chainkv_get_version", [c.c_char_p, p_void, p_size, p_u64]),
            ("chainkv_put_if", [c.c_char_p, c.c_char_p, c.c_size_t, c.c_uint64, p_u64]),
            ("chainkv_delete_if", [c.c_char_p, c.c_uint64, p_u64]),
        ]:
            fn = getattr(lib, name)
            fn.argtypes = args
            fn.restype = c.c_int
        lib.chainkv_free.argtypes = [c.c_void_p]
        lib.chainkv_free.restype = None
        lib.chainkv_scan.argtypes = [c.c_char_p, c.c_char_p, c.c_char_p, c.c_char_p, c.c_size_t,
                                     c.POINTER(c.POINTER(_Entry)), p_size, p_void]
        lib.chainkv_scan.restype = c.c_int
        lib.chainkv_free_entries.argtypes = [c.POINTER(_Entry), c.c_size_t]
        lib.chainkv_free_entries.restype = None
        lib.chainkv_watch_open.argtypes = [c.c_char_p, c.c_char_p, c.c_char_p]
        lib.chainkv_watch_open.restype = c.c_void_p
        lib.chainkv_watch_next.argtypes = [c.c_void_p, c.c_int, c.POINTER(_Change)]
        lib.chainkv_watch_next.restype = c.c_int
        lib.chainkv_free_change.argtypes = [c.POINTER(_Change)]
        lib.chainkv_free_change.restype = None
        lib.chainkv_watch_close.argtypes = [c.c_void_p]
        lib.chainkv_watch_close.restype = None
        _libraries[path] = lib
        return lib


def _key(key):
    if isinstance(key, str):
        data = key.encode("utf-8")
    elif isinstance(key, (bytes, bytearray, memoryview)):
        data = bytes(key)
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidArgument(f"key {data!r} is not UTF-8", -3) from None
    else:
        raise TypeError(f"a key is str or bytes, not {type(key).__name__}")
    # The C ABI takes NUL-terminated keys: a NUL would cut the key short silently.
    if not data or b"\0" in data or len(data) > MAX_KEY_BYTES:
        raise InvalidArgument(f"bad key {_show(data)}: keys are 1 to {MAX_KEY_BYTES} bytes of UTF-8 without NUL", -3)
    return data


def _value(value):
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"a value is str or bytes, not {type(value).__name__}")


def _show(data):
    return repr(data if len(data) <= 40 else data[:40] + b"...")


def _version(v):
    if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= ANY_VERSION:
        raise InvalidArgument(f"bad version {v!r}: an int from 0 to ANY_VERSION", -3)
    return v


def _raise(status, what):
    if status == -1:
        raise NetworkError(f"{what}: network error, no server answered", status)
    if status == -2:
        raise ReplicationFailed(f"{what}: replication failed (safe to retry)", status)
    if status == -3:
        raise InvalidArgument(f"{what}: bad argument (or an unusable CHAINKV_SECRET_FILE / CHAINKV_TLS_CA_FILE)", status)
    raise ChainKVError(f"{what}: unexpected status {status}", status)


_MISSING = object()


class Client:
    """The library's client. The C library has one client per process: init() and shutdown()
    act on it, and every call is safe from several threads.

    Client(servers) initialises it (see init); Client() only loads the library."""

    def __init__(self, servers=None, port=7001, library=None, require_head=True):
        self.library = library or find_library()
        self._lib = _load(self.library)
        if servers is not None:
            self.init(servers, port, require_head=require_head)

    # The paper's five calls (plus delete).

    def init(self, servers, port=7001, require_head=True):
        """Connects to servers ("host" or "host:port"; port where none is given). Returns True when
        a server answered and the head is known. When none is reachable now, the servers are kept
        and every later call looks for the head again: require_head=True raises NetworkError
        then (after shutting the client down), False returns False."""
        if isinstance(servers, (str, bytes)):
            servers = [servers]
        encoded = [s.encode("utf-8") if isinstance(s, str) else bytes(s) for s in servers]
        if not encoded:
            raise InvalidArgument("init: no servers", -3)
        arr = (ctypes.c_char_p * (len(encoded) + 1))(*encoded, None)
        status = self._lib.chainkv_init(arr, int(port))
        if status == 0:
            return True
        if status == -1:
            if require_head:
                self._lib.chainkv_shutdown()
                raise NetworkError(f"init: no server of {', '.join(s.decode() for s in encoded)} reachable", -1)
            return False
        _raise(status, "init")

    def get(self, key, default=_MISSING):
        """The value as bytes. A missing key raises NotFound, or returns default when one is given."""
        k = _key(key)
        ptr, n = ctypes.c_void_p(), ctypes.c_size_t()
        status = self._lib.chainkv_get(k, ctypes.byref(ptr), ctypes.byref(n))
        if status == 0:
            return self._take(ptr, n)
        if status == 1:
            if default is not _MISSING:
                return default
            raise NotFound(f"no such key {_show(k)}", 1)
        _raise(status, "get")

    def put(self, key, value):
        """Sets key; returns its old value (bytes), or None when the key is new."""
        k, v = _key(key), _value(value)
        ptr, n = ctypes.c_void_p(), ctypes.c_size_t()
        status = self._lib.chainkv_put(k, v, len(v), ctypes.byref(ptr), ctypes.byref(n))
        if status == 0:
            return self._take(ptr, n)
        if status == 1:
            return None
        _raise(status, "put")

    def delete(self, key, missing_ok=False):
        """Deletes key. A missing key raises NotFound (missing_ok=True: returns False). True: deleted."""
        k = _key(key)
        status = self._lib.chainkv_delete(k)
        if status == 0:
            return True
        if status == 1:
            if missing_ok:
                return False
            raise NotFound(f"no such key {_show(k)}", 1)
        _raise(status, "delete")

    def shutdown(self):
        """Closes the connections and returns once they are closed; init may be called again."""
        status = self._lib.chainkv_shutdown()
        if status != 0:
            _raise(status, "shutdown")

    close = shutdown

    def die(self, server, clean=True):
        """Asks server ("host:port") to exit: clean, it leaves the chain through the leader first;
        not clean, at once, like a crash. NetworkError when it is unreachable."""
        status = self._lib.chainkv_die(server.encode("utf-8") if isinstance(server, str) else bytes(server), 1 if clean else 0)
        if status != 0:
            _raise(status, f"die {server}")

    # Versions and conditional writes.

    def get_version(self, key):
        """(value, version); for a missing key (None, 0), so put_if(key, v, if_version=0) follows."""
        k = _key(key)
        ptr, n, ver = ctypes.c_void_p(), ctypes.c_size_t(), ctypes.c_uint64()
        status = self._lib.chainkv_get_version(k, ctypes.byref(ptr), ctypes.byref(n), ctypes.byref(ver))
        if status == 0:
            return self._take(ptr, n), ver.value
        if status == 1:
            return None, 0
        _raise(status, "get_version")

    def put_if(self, key, value, if_version=ANY_VERSION):
        """Sets key only if its version is if_version (0: only if absent; ANY_VERSION: always).
        Returns the version created; ConditionFailed (with .current) when the condition failed."""
        k, v = _key(key), _value(value)
        ver = ctypes.c_uint64()
        status = self._lib.chainkv_put_if(k, v, len(v), _version(if_version), ctypes.byref(ver))
        return self._versioned(status, ver, k, if_version, "put_if")

    def delete_if(self, key, if_version=ANY_VERSION):
        """Deletes key only if its version is if_version; returns the version created (also when
        the key was already absent and if_version was 0 or ANY_VERSION); ConditionFailed otherwise."""
        k = _key(key)
        ver = ctypes.c_uint64()
        status = self._lib.chainkv_delete_if(k, _version(if_version), ctypes.byref(ver))
        return self._versioned(status, ver, k, if_version, "delete_if")

    # Scans.

    def scan(self, prefix=None, start=None, end=None, after=None, limit=1000):
        """One page of keys in the order of their UTF-8 bytes: those that start with prefix, or
        (prefix None) those from start (inclusive; None: the first) to end (exclusive; None: the
        last), after the key `after`. Returns (entries, next): entries a list of
        (key: str, value: bytes, version: int), next the key to pass as after for the rest, or
        None when nothing is left. Every key when called with no argument."""
        if prefix is not None and (start is not None or end is not None):
            raise InvalidArgument("give a prefix or start/end, not both", -3)
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_SCAN_LIMIT:
            raise InvalidArgument(f"bad limit {limit!r}: 1 to {MAX_SCAN_LIMIT}", -3)
        if prefix is None and start is None and end is None:
            prefix = ""
        p = None if prefix is None else (_key(prefix) if prefix != "" and prefix != b"" else b"")
        s, e, a = (None if x is None else _key(x) for x in (start, end, after))
        entries, count, nxt = ctypes.POINTER(_Entry)(), ctypes.c_size_t(), ctypes.c_void_p()
        status = self._lib.chainkv_scan(p, s, e, a, limit, ctypes.byref(entries), ctypes.byref(count), ctypes.byref(nxt))
        if status != 0:
            _raise(status, "scan")
        try:
            page = [(ctypes.string_at(entries[i].key).decode("utf-8"),
                     ctypes.string_at(entries[i].value, entries[i].value_len) if entries[i].value_len else b"",
                     entries[i].version) for i in range(count.value)]
        finally:
            self._lib.chainkv_free_entries(entries, count.value)
        after_key = None
        if nxt.value:
            try:
                after_key = ctypes.string_at(nxt).decode("utf-8")
            finally:
                self._lib.chainkv_free(nxt)
        return page, after_key

    def scan_all(self, prefix=None, start=None, end=None, page_size=1000):
        """Every (key, value, version) of a prefix or range, fetched page by page."""
        after = None
        while True:
            page, after = self.scan(prefix, start, end, after=after, limit=page_size)
            yield from page
            if after is None:
                return

    # Watches.

    def watch(self, key=None, prefix=None, after=None):
        """A Watch of key, or of the keys that start with prefix, from now or just after the
        cursor `after` (the .cursor of an earlier change). Iterate it for changes, or call
        next_change(timeout); close it when done (or use it as a context manager)."""
        if (key is None) == (prefix is None):
            raise InvalidArgument("give a key or a prefix", -3)
        k = None if key is None else _key(key)
        p = None if prefix is None else (b"" if prefix in ("", b"") else _key(prefix))
        a = None if after is None else str(after).encode("utf-8")
        handle = self._lib.chainkv_watch_open(k, p, a)
        if not handle:
            raise InvalidArgument("watch: bad key, prefix or cursor (or the client is not initialised)", -3)
        return Watch(self._lib, handle)

    # Mapping conveniences.

    def __getitem__(self, key):
        return self.get(key)

    def __setitem__(self, key, value):
        self.put(key, value)

    def __delitem__(self, key):
        self.delete(key)

    def __contains__(self, key):
        return self.get(key, None) is not None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.shutdown()
        return False

    # Internals.

    def _take(self, ptr, n):
        try:
            return ctypes.string_at(ptr, n.value) if n.value else b""
        finally:
            self._lib.chainkv_free(ptr)

    def _versioned(self, status, ver, k, if_version, what):
        if status == 0:
            return ver.value
        if status == 2:
            raise ConditionFailed(f"{what} {_show(k)}: version is {ver.value}, not {if_version}", ver.value)
        _raise(status, what)


class Change(tuple):
    """One committed change: (key, value, version, cursor); value None for a delete."""
    __slots__ = ()

    def __new__(cls, key, value, version, cursor):
        return super().__new__(cls, (key, value, version, cursor))

    key = property(lambda self: self[0])
    value = property(lambda self: self[1])
    version = property(lambda self: self[2])
    cursor = property(lambda self: self[3])


class Watch:
    """A running watch (see Client.watch): iterating yields Change tuples until closed."""

    def __init__(self, lib, handle):
        self._lib, self._handle = lib, handle

    def next_change(self, timeout=None):
        """The next Change, waiting up to timeout seconds (None: until one comes); None when
        none came in time. Raises Compacted, or NetworkError when the watch ended."""
        while True:
            if self._handle is None:
                raise ChainKVError("the watch is closed")
            wait = 1000 if timeout is None else max(0, min(int(timeout * 1000), 2**31 - 1))
            change = _Change()
            status = self._lib.chainkv_watch_next(self._handle, wait, ctypes.byref(change))
            if status == 0:
                try:
                    value = None if change.deleted else (ctypes.string_at(change.value, change.value_len) if change.value_len else b"")
                    return Change(ctypes.string_at(change.key).decode("utf-8"), value, change.version,
                                  ctypes.string_at(change.cursor).decode("utf-8"))
                finally:
                    self._lib.chainkv_free_change(ctypes.byref(change))
            if status == 1:
                if timeout is None:
                    continue
                return None
            if status == 3:
                raise Compacted(f"watch: the cursor is older than the history kept (oldest version {change.version})", change.version)
            _raise(status, "watch")

    def __iter__(self):
        while True:
            yield self.next_change()

    def close(self):
        if self._handle is not None:
            self._lib.chainkv_watch_close(self._handle)
            self._handle = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __del__(self):
        self.close()


def connect(servers, port=7001, library=None, require_head=True):
    """A Client initialised with servers (see Client.init)."""
    return Client(servers, port=port, library=library, require_head=require_head)
