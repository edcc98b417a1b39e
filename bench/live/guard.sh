#!/usr/bin/env bash
# The kernel guard against every scan type, with both cores kept busy (issue: hardening, the guard
# sees every probe kind). For each of nmap -sS -sT -sF -sX -sN -sM -sA -sW (-p 1-1000) and
# -sU --top-ports 100, all with -T4 --max-retries 1, it runs bench/live/reaction.sh RUNS times
# (a fresh sensor each time, Release, nftables, in a namespace of its own) while stress-ng keeps
# every CPU busy, and prints one row per scan: the ports nmap learned (median and most) and the
# sensor's own reaction (the BANNED or HELD line's sensor=, median). Everything it creates is removed.
#   sudo bench/live/guard.sh [RUNS]
# Needs nmap, stress-ng, python3 and iproute2. LOAD=0 runs without stress-ng. NMAP_LIMIT (default
# 15) cuts each scan short after that many seconds: a scanner held or banned learns nothing more,
# and nmap would back off on the silence for minutes.
set -euo pipefail
runs=${1:-5}
here=$(dirname "$0")
if [ "${LOAD:-1}" = 1 ]; then
  stress-ng --cpu "$(nproc)" --timeout 7200s >/dev/null 2>&1 &
  load=$!
  trap 'kill "$load" 2>/dev/null || true' EXIT
fi
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
printf '| scan | ports learned, median | most | sensor reaction, median ms | banned |\n|---|---|---|---|---|\n'
for scan in -sS -sT -sF -sX -sN -sM -sA -sW -sU; do
  ports="-p 1-1000"
  [ "$scan" = -sU ] && ports="--top-ports 100"
  out=$(SCAN=$scan PORTS=$ports DUMP=0 NMAP_LIMIT=${NMAP_LIMIT:-15} "$here/reaction.sh" "$runs" -T4)
  learned=$(grep -oE 'learned [0-9]+' <<<"$out" | awk '{ print $2 }')
  sensor=$(grep -oE 'sensor=[0-9.]+ms' <<<"$out" | grep -oE '[0-9.]+' || true)
  banned=$(grep -cE 'BANNED|HELD' <<<"$out" || true)
  printf '| %s %s | %s | %s | %s | %s of %s |\n' "$scan" "$ports" "$(median <<<"$learned")" "$(sort -n <<<"$learned" | tail -1)" "$(median <<<"$sensor")" "$banned" "$runs"
done
