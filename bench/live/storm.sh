#!/usr/bin/env bash
# A real scanner inside a spoofed storm (issue: hardening, spoof storms). Builds two network
# namespaces joined by a veth pair (198.51.100.0/24, RFC 5737), runs the sensor (Release, nftables,
# defaults) in the target with three open ports, and from the other side sends a storm of forged
# TCP SYNs (tcpreplay, STORM_PPS a second for STORM_SECONDS, bounded in packets and in time) from
# 192.0.2.0/24 and 203.0.113.0/24 (a quarter from random addresses in 2001:db8:8000::/33) to random
# ports of the target, whose answers are routed back through the scanner side as a real host's
# would be, so the kernel guard counts them. STORM_SECONDS/4 into the storm, a real
# `nmap -sS -T4 -p 1-1000` runs from 198.51.100.1. The same is done without the storm. Each run is
# a fresh sensor and data directory; everything it creates is removed at exit.
#   sudo bench/live/storm.sh [RUNS]
# It prints, for each condition, the runs' medians: the real scanner's reaction (its HELD or
# BANNED line's reaction=, from its first probe to the element in nftables, and sensor=), the
# ports nmap learned (as reaction.sh counts them), the spoofed addresses held or banned and the
# longest time any got, the detections with no kind, the guard's holds at the end of the storm,
# the storm's rate as tcpreplay reports it, libpcap's drops (the STOPPED line) and the veth's
# (frames the target's receive backlog could not take, lost before any capture sees them); then
# whether each of the issue's goals is met (the reaction within a tenth of the one without the storm).
# Needs nmap, tcpreplay, python3 and iproute2. NMAP_LIMIT (default 15) cuts each scan short: a
# scanner held learns nothing more, and nmap would back off on the silence for minutes. KEEP_LOGS
# names a directory to keep the sensor's and nmap's output in.
set -euo pipefail
runs=${1:-5}
pps=${STORM_PPS:-85000}
seconds=${STORM_SECONDS:-20}
limit=${NMAP_LIMIT:-15}
source "$(dirname "$0")/pair.sh" ps-storm
mac() { ip -n "$1" link show "$2" | awk '/link\/ether/ { print $2 }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# The target answers the forged sources through the scanner side, which drops the answers.
ip -n "$s" addr add 2001:db8:1::1/64 dev "$sdev" nodad
ip -n "$t" addr add 2001:db8:1::2/64 dev "$tdev" nodad
ip -n "$t" route add 192.0.2.0/24 via 198.51.100.1
ip -n "$t" route add 203.0.113.0/24 via 198.51.100.1
ip -n "$t" -6 route add 2001:db8:8000::/33 via 2001:db8:1::1
serve_target 3600

# 200,000 distinct forged SYNs, replayed in a loop.
frames=200000
python3 - "$work/storm.pcap" "$frames" "$(mac "$t" "$tdev")" "$(mac "$s" "$sdev")" <<'EOF'
import random, socket, struct, sys
out, count = sys.argv[1], int(sys.argv[2])
dmac, smac = (bytes.fromhex(m.replace(':', '')) for m in sys.argv[3:5])
dst4, dst6 = socket.inet_aton('198.51.100.2'), socket.inet_pton(socket.AF_INET6, '2001:db8:1::2')
rnd = random.Random(5737)
def csum(b):
    b += b'\0' * (len(b) % 2)
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
def syn(pseudo):  # a bare SYN, 20 bytes, window 1024, checksummed over the pseudo-header
    seg = struct.pack('!HHIIBBHHH', rnd.randrange(1024, 65536), rnd.randrange(1, 65536), rnd.getrandbits(32), 0, 5 << 4, 0x02, 1024, 0, 0)
    return seg[:16] + struct.pack('!H', csum(pseudo + seg)) + seg[18:]
with open(out, 'wb') as f:
    f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for i in range(count):
        if i % 4:
            src = bytes(rnd.choice(((192, 0, 2), (203, 0, 113))) + (rnd.randrange(1, 255),))
            tcp = syn(src + dst4 + struct.pack('!BBH', 0, 6, 20))
            ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 40, rnd.getrandbits(16), 0, rnd.choice((48, 52, 64, 128)), 6, 0, src, dst4)
            frame = dmac + smac + b'\x08\x00' + ip[:10] + struct.pack('!H', csum(ip)) + ip[12:] + tcp
        else:
            src = bytes.fromhex('20010db8') + struct.pack('!H', 0x8000 | rnd.getrandbits(15)) + rnd.getrandbits(80).to_bytes(10, 'big')
            tcp = syn(src + dst6 + struct.pack('!IxxxB', 20, 6))
            frame = dmac + smac + b'\x86\xdd' + struct.pack('!IHBB', 6 << 28, 20, 6, 64) + src + dst6 + tcp
        f.write(struct.pack('<IIII', i // 1000, i % 1000, len(frame), len(frame)) + frame)
EOF
loops=$(( (pps * seconds + frames - 1) / frames ))

# One run: a fresh sensor, the storm if $1 is 1, the real scan; one line of figures appended to
# $work/rows-$1.
run() {
  local storm=$1 n=$2 log="$work/sensor-$1-$2.log" rate=- guard=- replay= vdrop
  start_sensor "$log" "$work/data-$1-$2"
  vdrop=$(ip netns exec "$s" cat "/sys/class/net/$sdev/statistics/tx_dropped")
  if [ "$storm" = 1 ]; then
    ip netns exec "$s" timeout "$((seconds + 10))" tcpreplay -q -i "$sdev" --pps="$pps" --loop="$loops" \
      --limit="$((pps * seconds))" --duration="$seconds" "$work/storm.pcap" >"$work/replay-$n.txt" 2>&1 &
    replay=$!
    pids+=("$replay")
  fi
  sleep "$((seconds / 4))"
  ip netns exec "$s" timeout "$limit" nmap -d2 -n -Pn -sS -T4 -p 1-1000 --max-retries 1 198.51.100.2 >"$work/nmap-$1-$2.txt" 2>&1 || true
  if [ -n "$replay" ]; then
    guard=$(ip netns exec "$t" nft -j list set inet portsentinel held4 | python3 -c 'import json, sys; print(sum(len(x["set"].get("elem", [])) for x in json.load(sys.stdin)["nftables"] if "set" in x))')
    wait "$replay" || true
    rate=$(grep -oE '[0-9.]+ pps' "$work/replay-$n.txt" | tail -1 | awk '{ printf "%.1f", $1 / 1000 }')
  fi
  sleep 0.5
  kill -TERM "$sensor"; wait "$sensor" || true
  ip netns exec "$t" nft delete table inet portsentinel 2>/dev/null || true # the scanner's access back
  vdrop=$(( $(ip netns exec "$s" cat "/sys/class/net/$sdev/statistics/tx_dropped") - vdrop ))
  local real reaction own learned spoofed longest long kindless kdrop lines="$work/lines"
  sed -E 's/^.*portsentinel\[[0-9]+\]: //' "$log" >"$lines" # the lines without their time stamps
  real=$(grep -m1 -oE '(HELD|BANNED) 198\.51\.100\.1 .*' "$log" || true)
  reaction=$( (grep -oE 'reaction=[0-9.]+' <<<"$real" || true) | cut -d= -f2)
  own=$( (grep -oE 'sensor=[0-9.]+' <<<"$real" || true) | cut -d= -f2)
  learned=$( (grep -oE 'Discovered (open|closed|unfiltered|filtered) port [0-9]+' "$work/nmap-$1-$2.txt" || true) | sort -u | wc -l)
  spoofed=$(awk '/^(HELD|BANNED) / && $2 != "198.51.100.1" { print $2 }' "$lines" | sort -u | wc -l)
  longest=$(awk '/^(HELD|BANNED) / && $2 != "198.51.100.1" { t = $4 == "ever" ? 1e9 : $4 + 0; if (t > m) m = t } END { print m + 0 }' "$lines")
  long=$(awk '/^BANNED / && $2 != "198.51.100.1"' "$lines" | wc -l)
  kindless=$(grep -cE '^DETECTED \S+ kinds= ' "$lines" || true)
  kdrop=$(grep -m1 -oE 'received, [0-9]+ dropped by the kernel' "$lines" | grep -oE '[0-9]+' || echo -)
  local line="${reaction:-none} ${own:-none} $learned $spoofed ${longest:-0} $long $kindless $guard $rate $kdrop $vdrop"
  echo "storm=$storm run $n: reaction ms, sensor ms, learned, spoofed held or banned, longest s, spoofed banned, kind-less, guard holds, kpps, capture drops, veth drops: $line" >&2
  echo "$line" >>"$work/rows-$storm"
  if [ -n "${KEEP_LOGS:-}" ]; then mkdir -p "$KEEP_LOGS" && cp "$log" "$work/nmap-$1-$2.txt" "$KEEP_LOGS/"; fi
}

for storm in 0 1; do
  for n in $(seq 1 "$runs"); do
    run "$storm" "$n"
  done
done
hold=$(cat "$work"/sensor-*.log | grep -oE 'HELD 198\.51\.100\.1 for [0-9]+s' | grep -oE '[0-9]+s' | head -1 | tr -d s || true)
col() { awk -v c="$1" 'NF { print $c }' "$work/rows-$2" | grep -vE '^(none|-)$' || true; }
sum() { awk '{ s += $1 } END { print s + 0 }'; }
printf '| storm | runs | scanner stopped | reaction, median ms | sensor=, median ms | ports learned, median (most) | spoofed held or banned, median | longest spoofed, s | spoofed banned | kind-less detections | guard holds at the end, median | storm kpps, median | capture drops, total | veth drops, total |\n'
printf '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n'
for storm in 0 1; do
  printf '| %s | %s | %s of %s | %s | %s | %s (%s) | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$([ "$storm" = 1 ] && echo "$pps pps for ${seconds}s" || echo none)" "$runs" \
    "$(col 1 "$storm" | wc -l)" "$runs" "$(col 1 "$storm" | median)" "$(col 2 "$storm" | median)" "$(col 3 "$storm" | median)" "$(col 3 "$storm" | sort -n | tail -1)" \
    "$(col 4 "$storm" | median)" "$(col 5 "$storm" | sort -n | tail -1)" "$(col 6 "$storm" | sum)" "$(col 7 "$storm" | sum)" "$(col 8 "$storm" | median)" "$(col 9 "$storm" | median)" "$(col 10 "$storm" | sum)" "$(col 11 "$storm" | sum)"
done
without=$(col 1 0 | median) with=$(col 1 1 | median) most=$(col 3 1 | sort -n | tail -1) longest=$(col 5 1 | sort -n | tail -1) banned=$(col 6 1 | sum)
verdict() { if [ "$1" = 1 ]; then echo "met"; else echo "NOT met"; fi; }
# "No later" within a tenth: the medians of five runs on a quiet machine differ by more than that.
echo "- the scanner stopped during the storm no later than without it, within a tenth (median reaction ${with} ms vs ${without} ms): $(verdict "$(awk -v a="$with" -v b="$without" 'BEGIN { print (a != "-" && b != "-" && a <= b * 1.1) ? 1 : 0 }')")"
echo "- nmap learned at most 10 ports during the storm (most: $most): $(verdict "$([ "${most:-99}" -le 10 ] && echo 1)")"
echo "- no spoofed address banned longer than the hold (${hold:-?}s; longest given: ${longest:-0}s, banned: ${banned:-0}): $(verdict "$([ "${banned:-0}" = 0 ] && [ "${longest:-0}" -le "${hold:-0}" ] && echo 1)")"
