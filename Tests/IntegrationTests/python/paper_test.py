"""The paper's tests through Python ctypes.

usage: paper_test.py LIBRARY SERVERS single|multi
single: status codes and values; multi: the two-process test (one writes a key 1000 times, the
other reads it and must never see a value older than the last acknowledged write)."""
import multiprocessing as mp
import sys

from chainkv import ChainKV

WRITES = 1000


def single(lib, servers):
    kv = ChainKV(lib)
    checks = [
        (kv.init(servers) == 0, "init"),
        (kv.get("py-missing") == (1, None), "get of a key never written is 1"),
        (kv.put("py-key", b"alpha") == (1, None), "first put is 1"),
        (kv.put("py-key", b"beta") == (0, b"alpha"), "update returns 0 and the old value"),
        (kv.get("py-key") == (0, b"beta"), "get returns the value"),
        (kv.put("py-empty", b"") == (1, None), "empty value"),
        (kv.get("py-empty") == (0, b""), "empty value reads back"),
        (kv.put("k" * 1025, b"v")[0] == -3, "key over the limit is -3"),
        (kv.delete("py-key") == 0, "delete is 0"),
        (kv.get("py-key") == (1, None), "deleted key is missing"),
        (kv.shutdown() == 0, "shutdown"),
    ]
    failed = [name for ok, name in checks if not ok]
    for name in failed:
        print("FAIL", name)
    print(f"python single: {len(checks) - len(failed)} passed, {len(failed)} failed")
    return not failed


def writer(lib, servers, acked, go, done):
    kv = ChainKV(lib)  # loaded after fork: the library's threads do not survive a fork
    assert kv.init(servers) == 0
    for i in range(1, WRITES + 1):
        rc, _ = kv.put("race", str(i).encode())
        assert rc in (0, 1), f"put {i} returned {rc}"
        acked.value = i  # published only after the chain acknowledged the write
        if i % 100 == 0:
            go.release()   # the paper's semaphores: hand over to the reader, wait for its read
            done.acquire()
    kv.shutdown()


def reader(lib, servers, acked, go, done, result):
    kv = ChainKV(lib)
    assert kv.init(servers) == 0
    reads = stale = 0
    handovers = 0
    while handovers < WRITES // 100:
        if go.acquire(block=False):
            floor = acked.value
            rc, value = kv.get("race")
            reads += 1
            if rc != 0 or int(value) != floor:
                stale += 1
                print(f"at handover {handovers}: read {value} but {floor} was acknowledged")
            handovers += 1
            done.release()
            continue
        floor = acked.value  # read before the get: the get must see at least this
        rc, value = kv.get("race")
        reads += 1
        if floor > 0 and (rc != 0 or int(value) < floor):
            stale += 1
            print(f"read {value} after {floor} was acknowledged")
    kv.shutdown()
    result.value = stale
    print(f"reader: {reads} reads, {stale} stale")


def multi(lib, servers):
    ctx = mp.get_context("fork")
    acked, result = ctx.Value("i", 0), ctx.Value("i", -1)
    go, done = ctx.Semaphore(0), ctx.Semaphore(0)
    w = ctx.Process(target=writer, args=(lib, servers, acked, go, done))
    r = ctx.Process(target=reader, args=(lib, servers, acked, go, done, result))
    r.start(); w.start()
    w.join(300); r.join(300)
    ok = w.exitcode == 0 and r.exitcode == 0 and result.value == 0 and acked.value == WRITES
    print(f"python multi: {1 if ok else 0} passed, {0 if ok else 1} failed "
          f"(writer exit {w.exitcode}, reader exit {r.exitcode}, stale {result.value}, acked {acked.value})")
    return ok


if __name__ == "__main__":
    library, servers, mode = sys.argv[1], sys.argv[2].split(","), sys.argv[3]
    sys.exit(0 if (single if mode == "single" else multi)(library, servers) else 1)
