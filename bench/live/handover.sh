#!/usr/bin/env bash
# How late libpcap itself hands frames over, with no sensor running (docs/performance.md, reaction
# time): a C reader with the sensor's capture settings in the target namespace, and from the
# scanner either 200 UDP packets 5 ms apart (quiet) or nmap -sS -p 1-1000 (scan, no guard).
#   sudo bench/live/handover.sh [quiet|scan] [RUNS]    IMMEDIATE=1 for libpcap's immediate mode
# Needs gcc, libpcap-dev, nmap, python3 and iproute2. Everything it creates is removed at exit.
set -euo pipefail
mode=${1:-scan}
runs=${2:-5}
source "$(dirname "$0")/pair.sh" ps-hand
gcc -O2 -o "$work/handover" "$root/bench/live/handover.c" -lpcap
for run in $(seq 1 "$runs"); do
  if [ "$mode" = quiet ]; then
    ip netns exec "$t" "$work/handover" "$tdev" "${IMMEDIATE:-0}" 200 "udp dst port 9" >"$work/out" &
    reader=$!
    sleep 0.5
    ip netns exec "$s" timeout 10 python3 -c "
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(200):
    s.sendto(b'x', ('198.51.100.2', 9)); time.sleep(0.005)"
  else
    ip netns exec "$t" "$work/handover" "$tdev" "${IMMEDIATE:-0}" 20 tcp >"$work/out" &
    reader=$!
    sleep 0.5
    ip netns exec "$s" timeout 5 nmap -n -Pn -sS -p 1-1000 --max-retries 0 198.51.100.2 >/dev/null 2>&1 || true
  fi
  wait "$reader" || true
  printf 'run %s (%s): %s\n' "$run" "$mode" "$(cat "$work/out")"
done
