#!/usr/bin/env bash
# Capture under load (issue: live sensor, performance). Builds two network namespaces joined by a
# veth pair (198.51.100.0/24, RFC 5737), runs the sensor (Release, full detection, firewall
# dry-run so no firewall work is measured) on the target side, and replays 64-byte frames at it
# from the other side as fast as this machine can: SENDERS tcpreplay --topspeed processes, each
# sending PACKETS. The frames are benign: PSH/ACK segments of eight established-looking flows to
# port 80 (80%), UDP to port 53 (10%), ICMP echo (10%); the target's kernel answers with RSTs,
# rate-limited ICMP errors and echo replies, which the sensor captures too. It prints one line:
# packets sent and offered rate, what the sensor received and what libpcap says the kernel and the
# interface dropped (pcap_stats, from its STOPPED line), the veth's own drops (frames lost before
# any capture could see them), and the sensor's CPU time (utime+stime) per packet captured.
# libpcap's "received" on Linux includes the kernel drops (PACKET_STATISTICS adds them), so
# "captured" is received minus kernel drops: what the sensor actually decoded. Received is about
# twice sent: the replies are captured too.
# Everything it creates is removed at exit.
#   sudo bench/live/load.sh [SENDERS] [PACKETS PER SENDER]
# Needs tcpreplay, python3 and iproute2. SEND_LIMIT (default 120) bounds each sender in seconds
# (SIGINT, so it still reports what it sent); SENSOR_ARGS adds options to `run` (e.g.
# "--set Capture:BufferBytes=134217728"), WRAP a command in front of it (e.g. "nice -n -10").
set -euo pipefail
senders=${1:-4}
count=${2:-2000000}
limit=${SEND_LIMIT:-120}
source "$(dirname "$0")/pair.sh" ps-load
mac() { ip -n "$1" link show "$2" | awk '/link\/ether/ { print $2 }'; }

python3 - "$work/small.pcap" "$(mac "$t" "$tdev")" "$(mac "$s" "$sdev")" <<'EOF'
import struct, sys
out, dmac, smac = sys.argv[1], bytes.fromhex(sys.argv[2].replace(':', '')), bytes.fromhex(sys.argv[3].replace(':', ''))
src, dst = bytes([198, 51, 100, 1]), bytes([198, 51, 100, 2])
def csum(b):
    b += b'\0' * (len(b) % 2)
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
def l4(proto, seg, at):  # seg with a zero checksum at offset `at`; pseudo-header per RFC 793/768
    c = csum(src + dst + struct.pack('!BBH', 0, proto, len(seg)) + seg)
    return seg[:at] + struct.pack('!H', c) + seg[at + 2:]
def frame(proto, seg, ident):
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(seg), ident, 0x4000, 64, proto, 0, src, dst)
    ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
    return dmac + smac + b'\x08\x00' + ip + seg  # 14 + 20 + 30 = 64 bytes
seq = [1000000 * i for i in range(8)]
with open(out, 'wb') as f:
    f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for i in range(1000):
        if i % 10 < 8:  # PSH/ACK, 10 bytes of data, in sequence within its flow
            flow = i % 8
            proto, seg = 6, l4(6, struct.pack('!HHIIBBHHH', 40000 + flow, 80, seq[flow], 7777, 5 << 4, 0x18, 502, 0, 0) + b'GET / HTTP', 16)
            seq[flow] += 10
        elif i % 10 == 8:  # a DNS-sized datagram
            proto, seg = 17, l4(17, struct.pack('!HHHH', 50000 + i // 10 % 4, 53, 30, 0) + bytes(22), 6)
        else:  # echo request, id 1
            proto, seg = 1, struct.pack('!BBHHH', 8, 0, 0, 1, i) + bytes(22)
            seg = seg[:2] + struct.pack('!H', csum(seg)) + seg[4:]
        pkt = frame(proto, seg, i)
        f.write(struct.pack('<IIII', 1, i, len(pkt), len(pkt)) + pkt)
EOF

start_sensor "$work/sensor.log" "$work/data" --firewall dry-run
sleep 1 # let the start-up work settle
cpu() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$sensor/stat"; } # utime + stime, fields 14-15
cpu0=$(cpu)
vdrop0=$(ip netns exec "$s" cat /sys/class/net/$sdev/statistics/tx_dropped)

start=$EPOCHREALTIME
sends=()
for i in $(seq 1 "$senders"); do
  ip netns exec "$s" timeout -s INT -k 5 "$limit" tcpreplay --topspeed --preload-pcap --loop=0 --limit="$count" -i "$sdev" "$work/small.pcap" >"$work/send-$i.txt" 2>&1 &
  sends+=($!)
  pids+=($!)
done
for i in "${!sends[@]}"; do
  wait "${sends[$i]}" || echo "load.sh: sender $((i + 1)) failed or was cut short at ${limit}s:" \
    "$(grep -m1 -E 'Actual|rror' "$work/send-$((i + 1)).txt")" >&2
done
took=$(awk "BEGIN { print $EPOCHREALTIME - $start }")
sleep 1 # the sensor drains its ring
cpu1=$(cpu)
vdrop=$(( $(ip netns exec "$s" cat /sys/class/net/$sdev/statistics/tx_dropped) - vdrop0 ))
kill -TERM "$sensor"; wait "$sensor" || true

sent=$(cat "$work"/send-*.txt | awk '/Successful packets:/ { n += $3 } END { print n + 0 }')
read -r received kdrop idrop < <(grep -m1 -oE 'STOPPED [^:]+: [0-9]+ received, [0-9]+ dropped by the kernel, [0-9]+ by the interface' "$work/sensor.log" |
  awk '{ print $3, $5, $10 }')
ticks=$((cpu1 - cpu0))
detections=$(grep -c ' DETECTED ' "$work/sensor.log" || true)
awk -v sent="$sent" -v took="$took" -v rec="$received" -v kd="$kdrop" -v id="$idrop" -v vd="$vdrop" \
    -v ticks="$ticks" -v hz="$(getconf CLK_TCK)" -v cores="$(nproc)" -v n="$senders" -v det="$detections" 'BEGIN {
  cpu = ticks / hz
  got = rec - kd
  printf "%d senders: sent %d in %.2fs (%.0f pps offered) | sensor received %d, kernel drops %d, interface drops %d | veth drops %d | sensor CPU %.2fs, %.0f ns per packet captured | %d detections | %d cores\n",
    n, sent, took, sent / took, rec, kd, id, vd, cpu, got ? cpu * 1e9 / got : 0, det, cores }'
