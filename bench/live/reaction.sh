#!/usr/bin/env bash
# Reaction time and what the scanner learns, measured live (issue: live sensor, performance).
# Builds two network namespaces joined by a veth pair (198.51.100.0/24, RFC 5737), runs the sensor
# (Release, nftables) in the target with three open ports, scans it from the other with
# nmap -sS -p 1-1000, and prints when the kernel guard held the scanner (bench/live/held-after.py,
# from a capture in the target), the sensor's BANNED (or HELD) line and how many port states nmap learned.
# Each run is a fresh sensor process and a fresh data directory. Everything it creates is removed at exit.
#   sudo bench/live/reaction.sh [RUNS] [NMAP TIMING, e.g. -T4]
# Needs nmap, tcpdump, python3 and iproute2.
# A scan that meets a ban is slow (nmap backs off on silence): NMAP_LIMIT (default 120) cuts it
# short after that many seconds; what it learned by then is all it will learn while banned.
# SENSOR_ARGS adds options to `run` (e.g. "--set Capture:ReadTimeoutMilliseconds=2"), WRAP a
# command in front of it (e.g. "nice -n -10"). DUMP=0 leaves out the capture in the target (and
# with it the guard's figure): tcpdump competes with the sensor for the CPUs while it records.
# SCAN picks nmap's scan type (default -sS; e.g. -sU or -sA), PORTS its ports (default -p 1-1000;
# e.g. "--top-ports 100"). A port counts as learned when nmap reports its state from an answer
# (open, closed, unfiltered, or filtered by an ICMP error), not when it gives up on silence.
set -euo pipefail
runs=${1:-5}
timing=${2:-}
limit=${NMAP_LIMIT:-120}
scan=${SCAN:--sS}
ports=${PORTS:--p 1-1000}
source "$(dirname "$0")/pair.sh" ps-react
serve_target 600
for run in $(seq 1 "$runs"); do
  data="$work/data-$run"
  start_sensor "$work/sensor-$run.log" "$data"
  # -d2 only makes nmap print each port state as it learns it ("Discovered closed port 7/tcp"),
  # so what it learned is known even when a scan that meets only silence is cut short.
  if [ "${DUMP:-1}" = 1 ]; then
    ip netns exec "$t" timeout "$((limit + 60))" tcpdump -i "$tdev" -s 96 -w "$work/scan-$run.pcap" tcp 2>/dev/null &
    dump=$!
    pids+=("$dump")
  fi
  sleep 1 # tcpdump is listening
  start=$EPOCHREALTIME
  ip netns exec "$s" timeout "$limit" nmap -d2 -n -Pn "$scan" $ports $timing --max-retries 1 198.51.100.2 >"$work/nmap-$run.txt" 2>&1 && end="done in" || end="stopped after"
  took=$(awk "BEGIN { print $EPOCHREALTIME - $start }")
  sleep 0.5
  kill -TERM "$sensor"; wait "$sensor" || true
  held=-
  if [ "${DUMP:-1}" = 1 ]; then
    kill -INT "$dump" 2>/dev/null || true; wait "$dump" || true
    held=$(python3 "$root/bench/live/held-after.py" "$work/scan-$run.pcap")
  fi
  banned=$(grep -m1 -oE '(BANNED|HELD) .*' "$work/sensor-$run.log" || true)
  learned=$( (grep -oE 'Discovered (open|closed|unfiltered|filtered) port [0-9]+' "$work/nmap-$run.txt" || true) | sort -u | wc -l)
  open=$( (grep -oE 'Discovered open port [0-9]+' "$work/nmap-$run.txt" || true) | sort -u | wc -l)
  printf 'run %s: held after %sms | %s | learned %s ports (%s open) | nmap %s %.0fs\n' "$run" "$held" "${banned:-no ban}" "$learned" "$open" "$end" "$took"
  # Restore the scanner's access for the next run.
  ip netns exec "$t" nft delete table inet portsentinel 2>/dev/null || true
done
