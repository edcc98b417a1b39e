#!/usr/bin/env bash
# Reaction time of a sensor that has been running a while (docs/performance.md): one sensor
# process, then RUNS scans from RUNS different scanner addresses (198.51.100.11 and up, each a first
# ban), PAUSE seconds apart (default 20). reaction.sh starts a fresh sensor for every scan instead.
#   sudo bench/live/reaction-running.sh [RUNS] [NMAP TIMING, e.g. -T4]
# SCAN (default -sS), NMAP_LIMIT (default 15), SENSOR_ARGS and WRAP as in reaction.sh.
set -euo pipefail
runs=${1:-5}
timing=${2:-}
limit=${NMAP_LIMIT:-15}
scan=${SCAN:--sS}
source "$(dirname "$0")/pair.sh" ps-running
serve_target 3600
start_sensor "$work/sensor.log" "$work/data"
for run in $(seq 1 "$runs"); do
  sleep "${PAUSE:-20}"
  scanner=198.51.100.$((10 + run))
  ip -n "$s" addr add "$scanner/24" dev "$sdev"
  ip netns exec "$s" timeout "$limit" nmap -n -Pn "$scan" -S "$scanner" -e "$sdev" -p 1-1000 $timing --max-retries 1 198.51.100.2 >/dev/null 2>&1 || true
  banned=$(grep -m1 -oE "(BANNED|HELD) $scanner .*" "$work/sensor.log" || true)
  printf 'run %s: %s\n' "$run" "${banned:-no ban}"
done
