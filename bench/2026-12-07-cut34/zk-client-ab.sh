#!/usr/bin/env bash
# The ZooKeeper target of `chainkv bench` with two bench-client builds side by side, on one
# 3-server ensemble (conf/zk, scripts/zk): what cut 34 changed in the comparison rows' ZooKeeper
# column. Each round runs 32 closed-loop writers, then 32 closed-loop readers, with one build and
# then the other (alternating which goes first), 20 s each after 2 s of warm-up.
#
#   bench/2026-12-07-cut34/zk-client-ab.sh OLD_CHAINKV NEW_CHAINKV OUT_DIR [ROUNDS]
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
old="$1"; new="$2"; out="$3"; rounds="${4:-3}"
mkdir -p "$out"; out="$(cd "$out" && pwd)"
base="$out/run"; mkdir -p "$base"
zk="$("$repo/scripts/zk" start --base "$base" | tail -n 1)"
trap '"$repo/scripts/zk" stop --base "$base" >/dev/null 2>&1 || true' EXIT
pids="$(cat "$base"/zk/*/pid | paste -sd, -)"
run() {  # side binary mix round
  timeout --kill-after=10 120 "$2" bench run --seed 7 --target zookeeper --servers "$zk" --zk-parent /chainkv-bench \
    --server-pids "$pids" --clients 32 --mix "$3" --sizes 128:1024 --distribution uniform --entries 4000 \
    --ops 50000 --duration 20 --warmup 2 --label "$1" \
    --csv-file "$out/$1-${3/:/-}-r$4.csv" > "$out/$1-${3/:/-}-r$4.txt" 2>&1
}
for r in $(seq 1 "$rounds"); do
  for mix in 0:100 100:0; do
    if [ $((r % 2)) -eq 1 ]; then run old "$old" "$mix" "$r"; run new "$new" "$mix" "$r"
    else run new "$new" "$mix" "$r"; run old "$old" "$mix" "$r"; fi
  done
done
head -n 1 "$(ls "$out"/*.csv | head -n 1)" > "$out/runs.csv"
for f in "$out"/*-r*.csv; do tail -n +2 "$f" >> "$out/runs.csv"; done
