"""The chainkv package against a live cluster.

    PYTHONPATH=clients/python CHAINKV_SERVERS=127.0.0.1:7001,127.0.0.1:7002 \\
        python3 -m unittest discover -s clients/python/tests -t clients/python

CHAINKV_SERVERS (comma-separated host:port) is required for the tests that need a cluster;
CHAINKV_LIB may name libchainkvc.so (else the package looks for it, see chainkv.find_library).
Every key has a per-run prefix, so the tests can run again on the same cluster."""
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid

import chainkv

SERVERS = [s for s in os.environ.get("CHAINKV_SERVERS", "").split(",") if s]
RUN = uuid.uuid4().hex[:8]


def key(name):
    return f"pytest-{RUN}-{name}"


class WithoutCluster(unittest.TestCase):
    """What the package does before anything is sent."""

    def test_exceptions_are_chainkv_errors_and_the_builtin_kinds(self):
        self.assertTrue(issubclass(chainkv.NotFound, KeyError))
        self.assertTrue(issubclass(chainkv.InvalidArgument, ValueError))
        for cls in (chainkv.NotFound, chainkv.InvalidArgument, chainkv.NetworkError,
                    chainkv.ReplicationFailed, chainkv.ConditionFailed):
            self.assertTrue(issubclass(cls, chainkv.ChainKVError), cls)
        self.assertEqual(chainkv.ANY_VERSION, 2**64 - 1)

    def test_find_library_honours_CHAINKV_LIB(self):
        path = chainkv.find_library()
        self.assertTrue(os.path.isfile(path), path)
        self.assertEqual(os.path.basename(path), "libchainkvc.so")
        old = os.environ.get("CHAINKV_LIB")
        try:
            os.environ["CHAINKV_LIB"] = os.path.dirname(path)   # a directory holding it works too
            self.assertEqual(chainkv.find_library(), os.path.join(os.path.dirname(path), "libchainkvc.so"))
            os.environ["CHAINKV_LIB"] = "/nonexistent/libchainkvc.so"
            with self.assertRaises(chainkv.ChainKVError) as e:
                chainkv.find_library()
            self.assertIn("/nonexistent/libchainkvc.so", str(e.exception))
        finally:
            if old is None:
                os.environ.pop("CHAINKV_LIB", None)
            else:
                os.environ["CHAINKV_LIB"] = old

    def test_find_library_next_to_the_package_then_in_the_repository(self):
        lib = chainkv.find_library()
        package = os.path.dirname(os.path.abspath(chainkv.__file__))
        env = {k: v for k, v in os.environ.items() if k != "CHAINKV_LIB"}
        with tempfile.TemporaryDirectory() as tmp:
            # A copy of the package with the library beside it, as `pip install` ships one.
            shutil.copytree(package, os.path.join(tmp, "chainkv"), ignore=shutil.ignore_patterns("*.so", "__pycache__"))
            os.symlink(lib, os.path.join(tmp, "chainkv", "libchainkvc.so"))
            found = subprocess.run([sys.executable, "-c", "import chainkv; print(chainkv.find_library())"],
                                   env=dict(env, PYTHONPATH=tmp), cwd=tmp, capture_output=True, text=True, check=True).stdout.strip()
            self.assertEqual(found, os.path.join(tmp, "chainkv", "libchainkvc.so"))
        # Used from a repository: the newer of its .build/release and .build/debug. A copy of the
        # package in a repository layout of its own, so the answer does not hang on what this
        # machine happened to build (the files need only exist: find_library does not load them).
        with tempfile.TemporaryDirectory() as repo:
            shutil.copytree(package, os.path.join(repo, "clients", "python", "chainkv"),
                            ignore=shutil.ignore_patterns("*.so", "__pycache__"))
            built = {}
            for kind, age in (("release", 100), ("debug", 50)):
                os.makedirs(os.path.join(repo, ".build", kind))
                built[kind] = os.path.join(repo, ".build", kind, "libchainkvc.so")
                with open(built[kind], "wb") as f:
                    f.write(b"not loaded")
                os.utime(built[kind], (time.time() - age, time.time() - age))
            find = [sys.executable, "-c", "import chainkv; print(chainkv.find_library())"]
            path = dict(env, PYTHONPATH=os.path.join(repo, "clients", "python"))
            found = subprocess.run(find, env=path, cwd=repo, capture_output=True, text=True, check=True).stdout.strip()
            self.assertEqual(found, built["debug"], "the newer of .build/release and .build/debug")
            os.utime(built["release"])
            found = subprocess.run(find, env=path, cwd=repo, capture_output=True, text=True, check=True).stdout.strip()
            self.assertEqual(found, built["release"], "the newer of .build/release and .build/debug")
            os.remove(built["release"])
            os.remove(built["debug"])
            failed = subprocess.run(find, env=path, cwd=repo, capture_output=True, text=True)
            self.assertNotEqual(failed.returncode, 0)
            self.assertIn("libchainkvc.so not found", failed.stderr)

    def test_bad_keys_and_values_are_refused_before_sending(self):
        kv = chainkv.Client()   # the library only: nothing connected
        for bad in ["", "a\0b", "k" * 1025, b"\xff\xfe"]:
            with self.assertRaises(chainkv.InvalidArgument, msg=repr(bad)):
                kv.get(bad)
            with self.assertRaises(ValueError, msg=repr(bad)):
                kv.put(bad, b"v")
        with self.assertRaises(TypeError):
            kv.get(42)
        with self.assertRaises(TypeError):
            kv.put("k", 42)
        with self.assertRaises(chainkv.InvalidArgument):
            kv.put_if("k", b"v", if_version=-1)

    def test_init_with_no_reachable_server(self):
        kv = chainkv.Client()
        with self.assertRaises(chainkv.NetworkError) as e:
            kv.init(["127.0.0.1:1"])   # nothing listens on port 1
        self.assertEqual(e.exception.status, -1)
        self.assertFalse(kv.init(["127.0.0.1:1"], require_head=False))
        kv.shutdown()

    def test_die_of_an_unreachable_server(self):
        with self.assertRaises(chainkv.NetworkError):
            chainkv.Client().die("127.0.0.1:1", clean=False)


@unittest.skipUnless(SERVERS, "CHAINKV_SERVERS is not set (comma-separated host:port of a running cluster)")
class WithCluster(unittest.TestCase):
    def setUp(self):
        self.kv = chainkv.connect(SERVERS)

    def tearDown(self):
        self.kv.close()

    def test_put_returns_the_old_value_and_get_the_value(self):
        k = key("put")
        self.assertIsNone(self.kv.put(k, b"alpha"), "a new key")
        self.assertEqual(self.kv.put(k, b"beta"), b"alpha", "the old value")
        self.assertEqual(self.kv.get(k), b"beta")

    def test_str_and_bytes_keys_and_values(self):
        k = key("grüße-ключ")
        self.assertIsNone(self.kv.put(k, "wert ✓"))
        self.assertEqual(self.kv.get(k), "wert ✓".encode("utf-8"), "values come back as bytes")
        self.assertEqual(self.kv.get(k.encode("utf-8")), "wert ✓".encode("utf-8"), "a bytes key is the same key")
        self.assertEqual(self.kv.put(k.encode("utf-8"), bytearray(b"\x00\x01\xff")), "wert ✓".encode("utf-8"))
        self.assertEqual(self.kv.get(k), b"\x00\x01\xff", "binary values with NUL bytes round-trip")

    def test_empty_and_large_values(self):
        self.kv.put(key("empty"), b"")
        self.assertEqual(self.kv.get(key("empty")), b"")
        big = os.urandom(1024 * 1024)
        self.kv.put(key("big"), big)
        self.assertEqual(self.kv.get(key("big")), big)
        with self.assertRaises(chainkv.InvalidArgument) as e:
            self.kv.put(key("big"), big + b"x")   # over 1 MiB: the library refuses it
        self.assertEqual(e.exception.status, -3)
        self.assertEqual(self.kv.get(key("big")), big, "the refused put changed nothing")

    def test_missing_keys_raise_NotFound_which_is_a_KeyError(self):
        k = key("missing")
        with self.assertRaises(chainkv.NotFound) as e:
            self.kv.get(k)
        self.assertEqual(e.exception.status, 1)
        with self.assertRaises(KeyError):
            self.kv[k]
        self.assertIsNone(self.kv.get(k, None))
        self.assertEqual(self.kv.get(k, b"default"), b"default")
        self.assertNotIn(k, self.kv)
        with self.assertRaises(chainkv.NotFound):
            self.kv.delete(k)
        self.assertFalse(self.kv.delete(k, missing_ok=True))

    def test_delete(self):
        k = key("delete")
        self.kv.put(k, b"v")
        self.assertIn(k, self.kv)
        self.assertTrue(self.kv.delete(k))
        self.assertIsNone(self.kv.get(k, None))
        self.kv[k] = "again"
        self.assertEqual(self.kv[k], b"again")
        del self.kv[k]
        self.assertNotIn(k, self.kv)

    def test_versions_and_conditional_writes(self):
        k = key("cas")
        self.assertEqual(self.kv.get_version(k), (None, 0), "absent: version 0")
        v1 = self.kv.put_if(k, b"one", if_version=0)
        self.assertGreater(v1, 0)
        with self.assertRaises(chainkv.ConditionFailed) as e:
            self.kv.put_if(k, b"two", if_version=0)   # create-if-absent, but it exists
        self.assertEqual((e.exception.status, e.exception.current), (2, v1))
        self.assertEqual(self.kv.get_version(k), (b"one", v1))
        v2 = self.kv.put_if(k, "two", if_version=v1)
        self.assertGreater(v2, v1)
        with self.assertRaises(chainkv.ConditionFailed) as e:
            self.kv.put_if(k, b"three", if_version=v1)
        self.assertEqual(e.exception.current, v2)
        self.assertEqual(self.kv.get(k), b"two", "the failed write changed nothing")
        v3 = self.kv.put_if(k, b"three")   # ANY_VERSION: unconditional
        self.assertGreater(v3, v2)
        with self.assertRaises(chainkv.ConditionFailed) as e:
            self.kv.delete_if(k, if_version=v2)
        self.assertEqual(e.exception.current, v3)
        v4 = self.kv.delete_if(k, if_version=v3)
        self.assertGreater(v4, v3)
        self.assertIsNone(self.kv.get(k, None), "the five calls see it gone")
        self.assertEqual(self.kv.get_version(k), (None, 0))

    def test_the_five_calls_and_versions_agree(self):
        k = key("agree")
        self.kv.put(k, b"x")
        value, v = self.kv.get_version(k)
        self.assertEqual(value, b"x")
        self.assertGreater(self.kv.put_if(k, b"y", if_version=v), v)
        self.assertEqual(self.kv.put(k, b"z"), b"y")

    def test_scans_in_pages(self):
        keys = [key(f"scan/{i:03d}") for i in range(25)]
        for i, k in enumerate(keys):
            self.kv.put(k, f"v{i}".encode())
        self.kv.put(key("scan0"), b"outside")
        page, after = self.kv.scan(key("scan/"), limit=10)
        self.assertEqual([k for k, _, _ in page], keys[:10])
        self.assertEqual(after, keys[9])
        self.assertEqual(page[3][1], b"v3")
        self.assertEqual(page[3][2], self.kv.get_version(keys[3])[1])
        self.assertEqual([k for k, _, _ in self.kv.scan_all(key("scan/"), page_size=7)], keys)
        page, after = self.kv.scan(start=keys[5], end=keys[8])
        self.assertEqual(([k for k, _, _ in page], after), (keys[5:8], None))
        self.assertEqual(self.kv.scan(key("nothing/")), ([], None))
        with self.assertRaises(chainkv.InvalidArgument):
            self.kv.scan(key("scan/"), start="a")
        with self.assertRaises(chainkv.InvalidArgument):
            self.kv.scan(limit=0)

    def test_watch_sees_changes_in_order_and_resumes_from_a_cursor(self):
        prefix = key("watch/")
        with self.kv.watch(prefix=prefix) as w:
            self.assertIsNone(w.next_change(timeout=1.5))
            self.kv.put(prefix + "a", b"1")
            self.kv.delete(prefix + "a")
            self.kv.put(prefix + "b", "2")
            first = w.next_change(timeout=10)
            self.assertEqual((first.key, first.value), (prefix + "a", b"1"))
            second = w.next_change(timeout=10)
            self.assertEqual((second.key, second.value), (prefix + "a", None))
            self.assertGreater(second.version, first.version)
            self.assertEqual(w.next_change(timeout=10)[:2], (prefix + "b", b"2"))
        with self.kv.watch(prefix=prefix, after=first.cursor) as again:
            self.assertEqual(again.next_change(timeout=10).version, second.version)
        with self.assertRaises(chainkv.InvalidArgument):
            self.kv.watch(key="k", prefix="p")

    def test_threads_share_the_client(self):
        errors = []

        def work(t):
            try:
                for i in range(50):
                    self.kv.put(key(f"thread-{t}-{i}"), f"{t}:{i}")
                for i in range(50):
                    if self.kv.get(key(f"thread-{t}-{i}")) != f"{t}:{i}".encode():
                        errors.append((t, i))
            except Exception as e:   # reported below, with the thread's number
                errors.append((t, repr(e)))

        threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(120)
        self.assertEqual(errors, [])

    def test_shutdown_then_init_again(self):
        k = key("reinit")
        self.kv.put(k, b"kept")
        self.kv.shutdown()
        self.assertTrue(self.kv.init(SERVERS))
        self.assertEqual(self.kv.get(k), b"kept")

    def test_context_manager(self):
        k = key("with")
        self.kv.close()
        with chainkv.connect(SERVERS) as kv:
            kv.put(k, b"v")
            self.assertEqual(kv.get(k), b"v")
        self.kv = chainkv.connect(SERVERS)   # for tearDown
        self.assertEqual(self.kv.get(k), b"v")


if __name__ == "__main__":
    unittest.main()
