# Sourced by the live benchmarks: builds the CLI when its sources changed ($cli), makes a work
# directory ($work) and two network namespaces, $s (scanner, 198.51.100.1 on $sdev) and $t
# (target, 198.51.100.2 on $tdev), joined by a veth pair (RFC 5737 addresses), named after the
# prefix given and this shell's PID. At exit it kills the PIDs put in $pids and removes all of it.
# serve_target and start_sensor, below, are for the scripts that need them.
#   source "$(dirname "$0")/pair.sh" ps-NAME
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
"$root/portsentinel" --help >/dev/null
cli="$root/.build/cli/PortSentinel.Cli"
s=$1-s-$$ t=$1-t-$$ sdev=$1-a tdev=$1-b
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  ip netns del "$s" 2>/dev/null || true
  ip netns del "$t" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$s"
ip netns add "$t"
ip link add "$sdev" netns "$s" type veth peer name "$tdev" netns "$t"
ip -n "$s" addr add 198.51.100.1/24 dev "$sdev"
ip -n "$t" addr add 198.51.100.2/24 dev "$tdev"
for ns in "$s" "$t"; do ip -n "$ns" link set lo up; done
ip -n "$s" link set "$sdev" up
ip -n "$t" link set "$tdev" up
# The target for the reaction benchmarks: TCP ports 22, 80 and 443 open (listeners that never
# accept, for up to $1 seconds) and ICMP errors unthrottled, so UDP probes are answered at nmap's pace.
serve_target() {
  ip netns exec "$t" sysctl -qw net.ipv4.icmp_ratelimit=0
  for port in 22 80 443; do
    ip netns exec "$t" timeout "$1" python3 -c "
import socket,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('198.51.100.2',$port)); s.listen(64); time.sleep($1)" &
    pids+=($!)
  done
  sleep 0.5
}
# The sensor in the target: `run --interface $tdev --data-dir DATA [ARGS]`, WRAP in front of it and
# SENSOR_ARGS after, its output in LOG. Sets $sensor and returns once it logs RUNNING; after 30 s
# without, prints its log and exits.
start_sensor() {
  local log=$1 data=$2
  shift 2
  ip netns exec "$t" ${WRAP:-} "$cli" run --interface "$tdev" --data-dir "$data" "$@" ${SENSOR_ARGS:-} >"$log" 2>&1 &
  sensor=$!
  pids+=("$sensor")
  for _ in $(seq 1 300); do
    grep -q "RUNNING" "$log" && return
    sleep 0.1
  done
  cat "$log" >&2
  echo "$(basename "$0"): the sensor did not start" >&2
  exit 1
}
