"""Conditional writes through the C ABI (libchainkvc.so) with ctypes.

usage: cas_test.py LIBRARY SERVERS single|race
single: versions and the status codes of chainkv_get_version, chainkv_put_if, chainkv_delete_if.
race: two processes race a compare-and-set on one key for ROUNDS rounds: in each, both read the
key's version, meet at a barrier, and put with that version; exactly one must win, and the loser
must be told the winner's version.
"""
import multiprocessing as mp
import sys

from chainkv import ChainKV

ROUNDS = 1000


def single(lib, servers):
    kv = ChainKV(lib)
    checks = []

    def check(name, ok):
        checks.append((name, ok))

    check("init", kv.init(servers) == 0)
    rc, value, v0 = kv.get_version("cas-single")
    check("absent: rc 1, version 0", (rc, value, v0) == (1, None, 0))
    rc, v1 = kv.put_if("cas-single", b"one", 0)
    check("create if absent", rc == 0 and v1 > 0)
    rc, current = kv.put_if("cas-single", b"two", 0)
    check("second create fails with the current version", (rc, current) == (2, v1))
    rc, value, v = kv.get_version("cas-single")
    check("get_version", (rc, value, v) == (0, b"one", v1))
    rc, v2 = kv.put_if("cas-single", b"two", v1)
    check("put on the current version", rc == 0 and v2 > v1)
    rc, current = kv.put_if("cas-single", b"three", v1)
    check("put on an old version fails", (rc, current) == (2, v2))
    rc, v3 = kv.put_if("cas-single", b"three")
    check("unconditional put returns its version", rc == 0 and v3 > v2)
    rc, current = kv.delete_if("cas-single", v2)
    check("delete on an old version fails", (rc, current) == (2, v3))
    rc, v4 = kv.delete_if("cas-single", v3)
    check("delete on the current version", rc == 0 and v4 > v3)
    check("the five still see it gone", kv.get("cas-single")[0] == 1)
    rc, _ = kv.put_if("k" * 1025, b"v", 0)
    check("bad key: -3", rc == -3)
    kv.shutdown()
    failed = [name for name, ok in checks if not ok]
    for name in failed:
        print("FAIL", name)
    print(f"python cas single: {len(checks) - len(failed)} passed, {len(failed)} failed")
    return not failed


def racer(me, lib, servers, barrier, seen, rcs, versions):
    kv = ChainKV(lib)  # loaded after fork: the library's threads do not survive a fork
    assert kv.init(servers) == 0
    for r in range(ROUNDS):
        rc, _, version = kv.get_version("cas-race")
        assert rc in (0, 1), f"get_version in round {r} returned {rc}"
        seen[r] = version
        barrier.wait()  # both read the same version: the last round's writes were answered
        rc, version = kv.put_if("cas-race", f"{me}:{r}".encode(), seen[r])
        rcs[r], versions[r] = rc, version
        barrier.wait()  # the round ends when both have their answer
    kv.shutdown()


def race(lib, servers):
    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(2)
    arrays = [[ctx.Array("Q", ROUNDS, lock=False) for _ in range(3)] for _ in range(2)]
    procs = [ctx.Process(target=racer, args=(me, lib, servers, barrier, *arrays[me])) for me in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(600)
    problems = [f"racer {me} exit {p.exitcode}" for me, p in enumerate(procs) if p.exitcode != 0]
    (seen_a, rc_a, v_a), (seen_b, rc_b, v_b) = arrays
    wins = [0, 0]
    last = 0
    for r in range(ROUNDS if not problems else 0):
        if seen_a[r] != seen_b[r] or seen_a[r] != last:
            problems.append(f"round {r}: read versions {seen_a[r]} and {seen_b[r]}, expected {last}")
        outcome = sorted([(rc_a[r], v_a[r], 0), (rc_b[r], v_b[r], 1)])
        (win_rc, win_v, winner), (lose_rc, lose_v, _) = outcome
        if (win_rc, lose_rc) != (0, 2):
            problems.append(f"round {r}: statuses {rc_a[r]} and {rc_b[r]}, expected exactly one 0 and one 2")
        elif lose_v != win_v or win_v <= last:
            problems.append(f"round {r}: winner made version {win_v}, loser told {lose_v} (previous {last})")
        else:
            wins[winner] += 1
            last = win_v
    if not problems:
        kv = ChainKV(lib)
        kv.init(servers)
        rc, value, version = kv.get_version("cas-race")
        kv.shutdown()
        winner = 0 if rc_a[ROUNDS - 1] == 0 else 1
        if (rc, value, version) != (0, f"{winner}:{ROUNDS - 1}".encode(), last):
            problems.append(f"final read {rc} {value} {version}, expected the last winner's value at {last}")
    for p in problems[:20]:
        print("FAIL", p)
    ok = not problems
    print(f"python cas race: {1 if ok else 0} passed, {0 if ok else 1} failed "
          f"({ROUNDS} rounds, wins {wins[0]} and {wins[1]}, {len(problems)} problems)")
    return ok


if __name__ == "__main__":
    library, servers, mode = sys.argv[1], sys.argv[2].split(","), sys.argv[3]
    sys.exit(0 if (single if mode == "single" else race)(library, servers) else 1)
