#!/usr/bin/env bash
# API latency under load from a second process (wrk, Debian's package) on loopback: a database of
# ALERTS alerts (default 100000), then DURATION seconds (default 20) per endpoint at CONNECTIONS
# connections (default 16) on two threads.
#   bench/web/api-load.sh
source "$(dirname "$0")/server.sh"
command -v wrk >/dev/null || { echo "api-load: needs wrk (apt-get install wrk)" >&2; exit 1; }
alerts="${ALERTS:-100000}"
duration="${DURATION:-20}"
connections="${CONNECTIONS:-16}"

# The alerts go in before the sensor starts, through the store's own schema.
"$cli" users list --data-dir "$work" >/dev/null   # creates the database with the current schema
python3 - "$work/portsentinel.db" "$alerts" <<'PY'
import random, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1]); n = int(sys.argv[2]); now = int(time.time() * 1000)
kinds = ["tcp-syn,vertical", "udp", "tcp-fin", "icmp-sweep,horizontal", "tcp-connect,tripwire"]
rows = [(f"203.0.113.{i % 250}", kinds[i % 5], now - i * 1000, now - i * 1000 + 500, 1, 100, "tcp 1-100", 100, "trw", 0.99,
         ["low", "medium", "high", "critical"][i % 4], "block" if i % 3 == 0 else "log", now - i * 1000, "192.0.2.2", f"bench {i}") for i in range(n)]
db.executemany("INSERT INTO detections (source, kinds, first_seen, last_seen, targets, ports, port_ranges, probes, trigger, confidence, severity, action, raised, target_list, reason) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
db.commit()
PY
start_sensor
echo "api-load: $alerts alerts; $connections connections, ${duration}s per endpoint; $(nproc) cores shared by wrk and the sensor"
for path in "/api/v1/health" "/api/v1/alerts?pageSize=50" "/api/v1/alerts?kind=udp&severity=high&pageSize=50" "/api/v1/alerts?q=bench%2099999" "/api/v1/stats" "/api/v1/bans" "/metrics"; do
  auth=(-H "Authorization: Bearer $token")
  [[ "$path" == "/api/v1/health" ]] && auth=()
  result=$(wrk -t2 -c"$connections" -d"${duration}s" --latency "${auth[@]}" "$base$path")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$result")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$result")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$result")
  errors=$(grep -E "Non-2xx|Socket errors" <<<"$result" | tr -s ' ' | tr '\n' ' ' || true)
  printf '%-55s %9s req/s  p50 %8s  p99 %8s  %s\n' "$path" "$rps" "$p50" "$p99" "$errors"
done
