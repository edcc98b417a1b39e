#!/usr/bin/env bash
# How fast the fleet's blocklist travels: three real sensors (`portsentinel run`, nftables), each in
# a network namespace of its own, and one PostgreSQL server of the script's own (Unix socket only,
# default durability: fsync and synchronous commit on). BANS single bans are made one after the
# other on the first sensor, through its REST API (POST /api/v1/bans with an admin token, from its
# namespace's loopback): its respond thread adds the nftables element, then records the ban, as for
# any ban it decides. Then the first sensor restarts with a blocklist file of BATCH addresses
# (198.18.0.0/15, RFC 2544) and imports it in one batch. `nft monitor` in each namespace stamps every
# new element of the hosts4 set on arrival (bench/fleet/elements.py, one monotonic clock), and the
# script reports, per ban, the time from the deciding sensor's element to the element on the last of
# the other two: median, p90, p99 and max; and for the batch, from the deciding sensor's first
# element to the last element on the last sensor. Goals (issue "Fleet"): median <= 10 ms,
# p99 <= 50 ms, the batch within 5 s. Needs root, nftables, iproute2, python3, curl and PostgreSQL's
# server (deploy/install-deps.sh --corpus installs them all). No traffic is sent anywhere: bans only.
#   bench/fleet/propagation.sh [BANS (100)] [BATCH (10000)]
#   PG_SETTINGS='-c synchronous_commit=off' bench/fleet/propagation.sh   (the server's settings, to compare)
set -euo pipefail
bans=${1:-100} batch=${2:-10000}
((bans >= 1 && bans <= 250)) || { echo "propagation: BANS is 1-250 (addresses of 203.0.113.0/24)" >&2; exit 2; }
((batch >= 1 && batch <= 100000)) || { echo "propagation: BATCH is 1-100000" >&2; exit 2; }
[[ $EUID -eq 0 ]] || { echo "propagation: run as root (network namespaces, nftables)" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$here/server.sh"
"$root/portsentinel" --help >/dev/null
cli="$root/.build/cli/PortSentinel.Cli"

work=$(mktemp -d)
chmod 755 "$work"
names=(ps-fleet-a-$$ ps-fleet-b-$$ ps-fleet-c-$$)
pids=()
declare -A sensor
cleanup() {
  for pid in "${pids[@]}" "${sensor[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  stop_server
  for ns in "${names[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

start_server

i=0
for ns in "${names[@]}"; do
  i=$((i + 1))
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  # An interface to capture on (a veth pair within the namespace: this kernel may lack dummy).
  ip -n "$ns" link add ps-fleet type veth peer name ps-fleet-peer
  ip -n "$ns" addr add "198.51.100.$((10 + i))/24" dev ps-fleet
  ip -n "$ns" link set ps-fleet up
  ip -n "$ns" link set ps-fleet-peer up
done

# start_sensor NS [ARGS]: `run` in NS, its log in $work/NS.log; returns once it logs RUNNING.
start_sensor() {
  local ns=$1
  shift
  ip netns exec "$ns" "$cli" run --interface ps-fleet --data-dir "$work/$ns" --store "$store" --name "$ns" \
    --set Reports:DailyAt= "$@" >>"$work/$ns.log" 2>&1 &
  sensor[$ns]=$!
  for _ in $(seq 1 600); do
    grep -q "RUNNING" "$work/$ns.log" && return
    sleep 0.1
  done
  cat "$work/$ns.log" >&2
  echo "propagation: the sensor in $ns did not start" >&2
  exit 1
}
a=${names[0]}
base=http://127.0.0.1:5099
password="propagation $RANDOM$RANDOM-x"
ip netns exec "$a" "$cli" users add bench --role admin --store "$store" --data-dir "$work/$a" <<<"$password" >/dev/null
start_sensor "$a" --urls "$base"
for ns in "${names[@]:1}"; do start_sensor "$ns" --no-dashboard; done
# An admin token for the API, from a session (as bench/web/server.sh makes one).
in_a() { ip netns exec "$a" "$@"; }
for _ in $(seq 1 100); do grep -q "DASHBOARD on" "$work/$a.log" && break; sleep 0.1; done
jar="$work/jar"
csrf=$(in_a curl -s -c "$jar" -b "$jar" "$base/api/v1/session" | python3 -c 'import json,sys; print(json.load(sys.stdin)["csrf"])')
csrf=$(in_a curl -s -c "$jar" -b "$jar" -H "X-CSRF-TOKEN: $csrf" -H 'Content-Type: application/json' \
  -d "{\"name\":\"bench\",\"password\":\"$password\"}" "$base/api/v1/session" | python3 -c 'import json,sys; print(json.load(sys.stdin)["csrf"])')
token=$(in_a curl -s -b "$jar" -H "X-CSRF-TOKEN: $csrf" -H 'Content-Type: application/json' \
  -d '{"name":"propagation","role":"admin"}' "$base/api/v1/tokens" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')

python3 "$here/elements.py" "${names[@]}" >"$work/elements" &
pids+=($!)
until grep -q ready "$work/elements"; do sleep 0.1; done
sleep 1

# arrived COUNT: waits (up to 30 s) until every namespace has COUNT elements stamped.
arrived() {
  for _ in $(seq 1 300); do
    local short=0
    for ns in "${names[@]}"; do
      (($(grep -c "^$ns " "$work/elements") >= $1)) || short=1
    done
    ((short == 0)) && return
    sleep 0.1
  done
  echo "propagation: not every sensor has $1 elements after 30 s" >&2
  for ns in "${names[@]}"; do echo "--- $ns"; grep -E "FLEET|ERROR|WARNING" "$work/$ns.log" | tail -5; done >&2
  exit 1
}

echo "propagation: $bans bans, one after the other, through ${a}'s API" >&2
for n in $(seq 1 "$bans"); do
  status=$(in_a curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d "{\"address\":\"203.0.113.$n\",\"duration\":\"1h\",\"reason\":\"propagation $n\"}" "$base/api/v1/bans")
  [[ $status == 201 ]] || { echo "propagation: the API answered $status to ban 203.0.113.$n" >&2; tail -5 "$work/$a.log" >&2; exit 1; }
  sleep 0.05
done
arrived "$bans"

echo "propagation: a blocklist of $batch addresses imported by $a" >&2
python3 -c "
for i in range($batch): print(f'198.18.{i // 256}.{i % 256}')" >"$work/blocklist"
kill "${sensor[$a]}"
wait "${sensor[$a]}" 2>/dev/null || true
start_sensor "$a" --no-dashboard --set "Blocklist:File=$work/blocklist"
arrived $((bans + batch))

python3 - "$work/elements" "$a" "$bans" "$batch" <<'EOF'
import statistics, sys
path, deciding, bans, batch = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
seen = {}
for line in open(path):
    parts = line.split()
    if len(parts) == 3:
        seen.setdefault(parts[1], {})[parts[0]] = int(parts[2])
def spread(addresses):
    out = []
    for address in addresses:
        times = seen[address]
        others = [t for ns, t in times.items() if ns != deciding]
        out.append((max(others) - times[deciding]) / 1e6)
    return out
in_order = spread([f"203.0.113.{n}" for n in range(1, bans + 1)])
single = sorted(in_order)
q = lambda p: single[min(len(single) - 1, int(round(p * (len(single) - 1))))]
print(f"single bans: {len(single)}; deciding sensor's element to the last other sensor's: "
      f"median {statistics.median(single):.1f} ms, p90 {q(0.9):.1f} ms, p99 {q(0.99):.1f} ms, max {single[-1]:.1f} ms, min {single[0]:.1f} ms")
slowest = sorted(range(bans), key=lambda n: -in_order[n])[:5]
def each(n):
    times = seen[f"203.0.113.{n + 1}"]
    return " ".join(f"{(t - times[deciding]) / 1e6:.1f}" for ns, t in sorted(times.items()) if ns != deciding)
# Both others late alike: the delay was before the announcement (the deciding sensor, the server).
print("slowest (ms on each other sensor): " + ", ".join(f"ban {n + 1} [{each(n)}]" for n in slowest))
listed = [f"198.18.{i // 256}.{i % 256}" for i in range(batch)]
first = min(seen[a][deciding] for a in listed)
last_deciding = max(seen[a][deciding] for a in listed)
last = max(t for a in listed for ns, t in seen[a].items() if ns != deciding)
print(f"batch of {batch}: on the deciding sensor within {(last_deciding - first) / 1e6:.0f} ms; "
      f"on every sensor {(last - first) / 1e6:.0f} ms after the deciding sensor's first element "
      f"({(last - last_deciding) / 1e6:.0f} ms after its last)")
EOF
