# Sourced by the dashboard benchmarks: starts ./portsentinel run on loopback only (dry-run
# firewall, a data directory of its own, the dashboard on $port), makes an admin session and a
# token, and stops the sensor on exit. Traffic stays on 127.0.0.1.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cli="$root/portsentinel"
work="$(mktemp -d /tmp/ps-webbench.XXXXXX)"
port="${PORT:-5099}"
base="http://127.0.0.1:$port"
password="load-test $RANDOM$RANDOM-x"
sensor_pid=""

cleanup() {
  [[ -n "$sensor_pid" ]] && kill "$sensor_pid" 2>/dev/null && wait "$sensor_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

start_sensor() { # extra run arguments
  "$cli" users add bench --role admin --data-dir "$work" <<<"$password" >/dev/null
  "$cli" run --interface lo --firewall dry-run --data-dir "$work" --urls "$base" "$@" >"$work/sensor.log" 2>&1 &
  sensor_pid=$!
  for _ in $(seq 1 120); do
    grep -q "DASHBOARD on" "$work/sensor.log" 2>/dev/null && break
    sleep 0.5
  done
  grep -q "DASHBOARD on" "$work/sensor.log" || { cat "$work/sensor.log" >&2; exit 1; }
  local jar="$work/jar" csrf
  csrf=$(curl -s -c "$jar" -b "$jar" "$base/api/v1/session" | python3 -c 'import json,sys; print(json.load(sys.stdin)["csrf"])')
  csrf=$(curl -s -c "$jar" -b "$jar" -H "X-CSRF-TOKEN: $csrf" -H 'Content-Type: application/json' \
    -d "{\"name\":\"bench\",\"password\":\"$password\"}" "$base/api/v1/session" | python3 -c 'import json,sys; print(json.load(sys.stdin)["csrf"])')
  token=$(curl -s -b "$jar" -H "X-CSRF-TOKEN: $csrf" -H 'Content-Type: application/json' \
    -d '{"name":"bench","role":"viewer"}' "$base/api/v1/tokens" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  export token
}
