#!/usr/bin/env bash
# count.sh RUNDIR OUT: 8 x 32 writes (preloaded 4,000 keys) against the cluster in RUNDIR; 8 s of
# pread64/pwrite64/fdatasync system calls of the middle server (n2), by thread and file.
set -euo pipefail
run="$1"; out="$2"; bin=/work/main/.build/release
p2=$(cat "$run/n2/pid")
"$bin/chainkv" bench run --servers "$(cat "$run/servers")" --clients 8 --pipeline 32 --mix 0:100 --duration 3 --ops 100000 >/dev/null 2>&1
"$bin/chainkv" bench run --servers "$(cat "$run/servers")" --clients 8 --pipeline 32 --mix 0:100 --duration 16 --ops 10000000 --preload skip > "$out.bench" 2>&1 &
sleep 4
before=$("$bin/chainkv" status --json --servers "$(cat "$run/servers")" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(max(n.get("applied",0) for n in (d["nodes"] if "nodes" in d else d)))' 2>/dev/null || echo 0)
perf record -e syscalls:sys_enter_pread64,syscalls:sys_enter_pwrite64,syscalls:sys_enter_fdatasync -p "$p2" -o "$out.data" -- sleep 8 >/dev/null 2>&1
after=$("$bin/chainkv" status --json --servers "$(cat "$run/servers")" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(max(n.get("applied",0) for n in (d["nodes"] if "nodes" in d else d)))' 2>/dev/null || echo 0)
wait
echo "writes in window (applied before/after): $before $after" > "$out"
perf script -i "$out.data" -F comm,event,trace 2>/dev/null | awk '{k=$1" "$2" fd="$3; c[k]++} END{for(k in c) print c[k], k}' | sort -rn >> "$out"
tail -1 "$out.bench" >> "$out"
cat "$out"
