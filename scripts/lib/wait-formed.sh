# Sourced by scripts/bench-ab and scripts/bench-shards (not run on its own).
#
# wait_formed CHAINKV SERVERS N K: waits up to 60 s (300 polls of `chainkv status --json`, 0.2 s
# apart) until the cluster at SERVERS (host:port list) has formed: with K > 1 chains, K chains of 3
# members each; unsharded, a chain of all N servers. Returns 0 once formed, 1 if it never did.
wait_formed() {
  local cli="$1" list="$2" n="$3" k="$4" formed=no
  for _ in $(seq 300); do
    formed="$("$cli" status --json --servers "$list" --timeout 1 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin); n = int(sys.argv[1]); k = int(sys.argv[2])
ok = (len(d["chains"]) == k and all(len(c["members"]) == 3 for c in d["chains"])) if "chains" in d else len(d["chain"]) == n
print("yes" if ok else "no")' "$n" "$k" 2>/dev/null || echo no)"
    [ "$formed" = yes ] && return 0
    sleep 0.2
  done
  return 1
}
