#!/usr/bin/env bash
# Regenerate the PortSentinel capture corpus (pcaps + labels.json).
#
#   sudo tests/corpus/generate.sh [OUTDIR]        (default OUTDIR: tests/corpus)
#   CORPUS_ONLY="tcp-syn.pcap udp.pcap" sudo tests/corpus/generate.sh
#                                                 (regenerate only those files;
#                                                  labels.json is always complete)
#
# SAFETY: every packet stays between two network namespaces created here and
# joined by one veth pair. Only documentation prefixes are used
# (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32). Every
# generator runs under `timeout`. The namespaces and every process started
# here are removed by the EXIT trap, also on failure or Ctrl-C.
#
# See README.md beside this file for topology, captures and requirements.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUTDIR=${1:-$HERE}
ONLY=${CORPUS_ONLY:-}

die() { echo "generate.sh: $*" >&2; exit 1; }

[[ $EUID -eq 0 ]] || die "must run as root (network namespaces, raw sockets)"
for tool in ip nmap tcpdump editcap dig traceroute curl ping timeout xargs; do
    command -v "$tool" >/dev/null || die "missing tool: $tool (see README.md)"
done
PY=$(command -v python3) || die "missing tool: python3"
[[ -x /usr/bin/python3 ]] && PY=/usr/bin/python3

mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)

SCAN=ps-corpus-scan-$$
TGT=ps-corpus-tgt-$$
VS=psc-scan0          # SCAN's end of the veth pair (name lives in SCAN only)
VT=psc-tgt0           # TGT's end of the veth pair (name lives in TGT only)
WORK=$(mktemp -d /tmp/ps-corpus.XXXXXX)
PIDS=()               # every background process we started
CAP_PID=""
FAILED=()
LABELS=()
T0=$(date +%s)

cleanup() {
    local rc=$?
    set +e
    trap - EXIT INT TERM
    local pid
    for pid in "${PIDS[@]}"; do kill -INT "$pid" 2>/dev/null; kill -TERM "$pid" 2>/dev/null; done
    sleep 0.5
    for pid in "${PIDS[@]}"; do
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    ip netns del "$SCAN" 2>/dev/null
    ip netns del "$TGT" 2>/dev/null
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

in_scan() { ip netns exec "$SCAN" "$@"; }
in_tgt() { ip netns exec "$TGT" "$@"; }
log() { printf '[%4ss] %s\n' "$(( $(date +%s) - T0 ))" "$*"; }
forget_pid() {
    local p keep=()
    for p in "${PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
    PIDS=("${keep[@]}")
}

# ---------------------------------------------------------------- topology --
setup() {
    log "creating namespaces $SCAN and $TGT"
    ip netns add "$SCAN"
    ip netns add "$TGT"
    local ns
    for ns in "$SCAN" "$TGT"; do
        ip netns exec "$ns" sysctl -qw \
            net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
            net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0 \
            net.ipv6.conf.all.router_solicitations=0 \
            net.ipv6.conf.default.router_solicitations=0 \
            net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0
        # per-namespace only on recent kernels; best effort
        ip netns exec "$ns" sysctl -qw net.ipv4.icmp_msgs_per_sec=100000 2>/dev/null || true
        ip netns exec "$ns" sysctl -qw net.ipv4.icmp_msgs_burst=100000 2>/dev/null || true
        ip -n "$ns" link set lo up
    done
    ip -n "$SCAN" link add "$VS" type veth peer name "$VT" netns "$TGT"

    # SCAN: the scanner (and benign clients)
    ip -n "$SCAN" addr add 192.0.2.1/24 dev "$VS"
    ip -n "$SCAN" addr add 2001:db8::1/64 dev "$VS" nodad
    ip -n "$SCAN" link set "$VS" up
    ip -n "$SCAN" route add 198.51.100.0/24 via 192.0.2.2
    ip -n "$SCAN" -6 route add 2001:db8:1::/64 via 2001:db8::2

    # TGT: the monitored host; 12 extra live addresses on lo
    ip -n "$TGT" addr add 192.0.2.2/24 dev "$VT"
    ip -n "$TGT" addr add 2001:db8::2/64 dev "$VT" nodad
    ip -n "$TGT" link set "$VT" up
    local i
    for i in $(seq 1 12); do
        ip -n "$TGT" addr add "198.51.100.$i/32" dev lo
        ip -n "$TGT" addr add "2001:db8:1::$i/128" dev lo nodad
    done
    ip -n "$TGT" route add 203.0.113.0/24 via 192.0.2.1
    # probes to the 18 non-existent sweep addresses are dropped silently
    # (IPv4 already is, since TGT does not forward; IPv6 would otherwise answer
    # "no route"). Addresses on lo are in the local table and win.
    ip -n "$TGT" route add blackhole 198.51.100.0/24
    ip -n "$TGT" -6 route add blackhole 2001:db8:1::/64

    # wait until no address is tentative (DAD is off, this is belt and braces)
    for i in $(seq 1 50); do
        if [[ -z $(ip -n "$SCAN" -6 addr show tentative) && -z $(ip -n "$TGT" -6 addr show tentative) ]]; then
            break
        fi
        sleep 0.2
    done
    [[ -z $(ip -n "$SCAN" -6 addr show tentative) ]] || die "IPv6 addresses still tentative"

    # servers in TGT
    mkdir -p "$WORK/www"
    local p
    for p in index about news contact faq; do
        printf '<!doctype html>\n<html><head><title>%s</title><link rel="stylesheet" href="style.css"></head>\n<body><h1>%s</h1><p>PortSentinel corpus test page.</p></body></html>\n' "$p" "$p" >"$WORK/www/$p.html"
    done
    printf 'body { font-family: sans-serif; margin: 2em; }\n' >"$WORK/www/style.css"
    printf 'console.log("corpus");\n' >"$WORK/www/app.js"
    printf '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16"><rect width="16" height="16"/></svg>\n' >"$WORK/www/logo.svg"
    printf 'User-agent: *\nDisallow:\n' >"$WORK/www/robots.txt"
    printf '{"items": [1, 2, 3]}\n' >"$WORK/www/data.json"
    ip netns exec "$TGT" "$PY" "$HERE/tools/servers.py" --www "$WORK/www" --ready "$WORK/servers.ready" \
        >"$WORK/servers.log" 2>&1 &
    PIDS+=("$!")
    for i in $(seq 1 50); do [[ -e $WORK/servers.ready ]] && break; sleep 0.2; done
    [[ -e $WORK/servers.ready ]] || { cat "$WORK/servers.log" >&2; die "servers did not start"; }

    # check reachability (also fills the neighbour caches before capturing)
    in_scan ping -c 1 -W 2 192.0.2.2 >/dev/null || die "192.0.2.2 unreachable from SCAN"
    in_scan ping -6 -c 1 -W 2 2001:db8::2 >/dev/null || die "2001:db8::2 unreachable from SCAN"
    in_scan ping -c 1 -W 2 198.51.100.12 >/dev/null || die "198.51.100.12 unreachable from SCAN"
    in_scan ping -6 -c 1 -W 2 2001:db8:1::12 >/dev/null || die "2001:db8:1::12 unreachable from SCAN"
    in_scan timeout 5 curl -s -o /dev/null http://192.0.2.2/index.html || die "HTTP server not answering"
    sleep 1
}

# ----------------------------------------------------------------- capture --
start_capture() { # FILE [sll2]
    local out=$OUTDIR/$1
    local ifargs=(-i "$VT")
    [[ ${2:-} == sll2 ]] && ifargs=(-i any -y LINUX_SLL2)
    rm -f "$out"
    : >"$WORK/tcpdump.err"
    # started directly (not through a shell function) so that $! is tcpdump
    # itself; tcpdump installs its own SIGINT handler
    ip netns exec "$TGT" tcpdump "${ifargs[@]}" -n -s 128 -U -Z root -w "$out" 2>"$WORK/tcpdump.err" &
    CAP_PID=$!
    PIDS+=("$CAP_PID")
    local i
    for i in $(seq 1 50); do
        grep -q 'listening on' "$WORK/tcpdump.err" && break
        kill -0 "$CAP_PID" 2>/dev/null || break
        sleep 0.1
    done
    grep -q 'listening on' "$WORK/tcpdump.err" || { cat "$WORK/tcpdump.err" >&2; die "tcpdump did not start"; }
    sleep 0.5
}

stop_capture() { # FILE
    sleep 1
    kill -INT "$CAP_PID" 2>/dev/null || true
    wait "$CAP_PID" 2>/dev/null || true
    forget_pid "$CAP_PID"
    CAP_PID=""
    local n
    n=$(grep -o '^[0-9]* packets captured' "$WORK/tcpdump.err" | cut -d' ' -f1 || true)
    log "  -> $1: ${n:-?} packets, $(stat -c %s "$OUTDIR/$1") bytes"
}

# run a generator in a namespace, bounded in time; failures are recorded
run_in() { # NS SECONDS CMD...
    local ns=$1 secs=$2
    shift 2
    if ! ip netns exec "$ns" timeout --kill-after=5 "$secs" "$@" >"$WORK/run.log" 2>&1; then
        log "  !! command failed or timed out: $*"
        sed 's/^/     | /' "$WORK/run.log" | tail -n 20
        return 1
    fi
    sed -n -e 's/^/     | /' -e '/Nmap done\|burst:\|hops max/p' "$WORK/run.log"
}

wanted() { [[ -z $ONLY || " $ONLY " == *" $1 "* ]]; }

# label FILE BENIGN COMMAND EXPECT   (EXPECT: "src=kind,kind;src=kind,...")
label() { LABELS+=("$1"$'\t'"$2"$'\t'"$3"$'\t'"$4"); }

# --------------------------------------------------------------- scenarios --
nmap_scan() { # FILE TIMEOUT EXPECT [sll2] -- NMAP-ARGS...
    local file=$1 secs=$2 expect=$3 mode=""
    shift 3
    if [[ $1 == sll2 ]]; then mode=sll2; shift; fi
    [[ $1 == -- ]] && shift
    label "$file" false "nmap $*" "$expect"
    wanted "$file" || return 0
    log "$file: nmap $*"
    start_capture "$file" $mode
    run_in "$SCAN" "$secs" nmap "$@" || FAILED+=("$file")
    stop_capture "$file"
}

V4=192.0.2.1
V6=2001:db8::1
SWEEP4=198.51.100.1-30
SWEEP6=()
for i in $(seq 1 30); do SWEEP6+=("2001:db8:1::$i"); done

scenarios() {
    nmap_scan tcp-syn.pcap     120 "$V4=tcp-syn,vertical"     -- -n -Pn -sS -p 1-200 192.0.2.2
    nmap_scan tcp-connect.pcap 120 "$V4=tcp-connect,vertical" -- -n -Pn -sT -p 1-200 192.0.2.2
    nmap_scan tcp-fin.pcap     120 "$V4=tcp-fin,vertical"     -- -n -Pn -sF -p 1-200 192.0.2.2
    nmap_scan tcp-xmas.pcap    120 "$V4=tcp-xmas,vertical"    -- -n -Pn -sX -p 1-200 192.0.2.2
    nmap_scan tcp-null.pcap    120 "$V4=tcp-null,vertical"    -- -n -Pn -sN -p 1-200 192.0.2.2
    nmap_scan tcp-maimon.pcap  120 "$V4=tcp-maimon,vertical"  -- -n -Pn -sM -p 1-200 192.0.2.2
    nmap_scan tcp-ack.pcap     120 "$V4=tcp-ack,vertical"     -- -n -Pn -sA -p 1-200 192.0.2.2
    nmap_scan tcp-window.pcap  120 "$V4=tcp-ack,vertical"     -- -n -Pn -sW -p 1-200 192.0.2.2
    nmap_scan udp.pcap         180 "$V4=udp,vertical"         -- -n -Pn -sU -p 1-100 192.0.2.2
    nmap_scan ip-protocol.pcap 180 "$V4=ip-protocol"          -- -n -Pn -sO 192.0.2.2
    nmap_scan sctp-init.pcap   180 "$V4=sctp-init,vertical"   -- -n -Pn -sY -p 1-100 192.0.2.2
    nmap_scan block.pcap       240 "$V4=tcp-syn,block"        -- -n -Pn -sS -p 20-31 "$SWEEP4"
    nmap_scan sweep-echo.pcap      120 "$V4=icmp-sweep,horizontal"     -- -n -sn -PE --disable-arp-ping "$SWEEP4"
    nmap_scan sweep-timestamp.pcap 120 "$V4=icmp-sweep,horizontal"     -- -n -sn -PP --disable-arp-ping "$SWEEP4"
    nmap_scan sweep-mask.pcap      120 "$V4=icmp-sweep,horizontal"     -- -n -sn -PM --disable-arp-ping "$SWEEP4"
    nmap_scan sweep-syn.pcap       120 "$V4=tcp-ping-sweep,horizontal" -- -n -sn -PS --disable-arp-ping "$SWEEP4"
    nmap_scan sweep-ack.pcap       120 "$V4=tcp-ping-sweep,horizontal" -- -n -sn -PA --disable-arp-ping "$SWEEP4"
    nmap_scan slow.pcap        400 "$V4=tcp-syn,slow"         -- -n -Pn -sS --scan-delay 10s -p 1-15 192.0.2.2
    # The decoys are live hosts (as nmap's manual recommends): SCAN owns
    # 203.0.113.7 and .9 on lo during this scan, so its kernel answers TGT's
    # SYN-ACKs with RST, just as it does for its own address. Otherwise TGT
    # keeps retransmitting SYN-ACKs to the decoys for ~60 s, into later captures.
    if wanted decoy.pcap; then
        ip -n "$SCAN" addr add 203.0.113.7/32 dev lo
        ip -n "$SCAN" addr add 203.0.113.9/32 dev lo
    fi
    nmap_scan decoy.pcap       180 \
        "$V4=tcp-syn,vertical,distributed;203.0.113.7=tcp-syn,vertical,distributed;203.0.113.9=tcp-syn,vertical,distributed" \
        -- -n -Pn -sS -D 203.0.113.7,203.0.113.9,ME -p 1-100 192.0.2.2
    if wanted decoy.pcap; then
        ip -n "$SCAN" addr del 203.0.113.7/32 dev lo
        ip -n "$SCAN" addr del 203.0.113.9/32 dev lo
    fi
    nmap_scan ipv6-syn.pcap    120 "$V6=tcp-syn,vertical"     -- -6 -n -Pn -sS -p 1-200 2001:db8::2
    nmap_scan ipv6-udp.pcap    180 "$V6=udp,vertical"         -- -6 -n -Pn -sU -p 1-60 2001:db8::2
    nmap_scan ipv6-sweep.pcap  120 "$V6=icmp-sweep,horizontal" -- -6 -n -sn -PE --disable-arp-ping "${SWEEP6[@]}"

    # the FIN scan again, as pcapng (converted, identical packets)
    label tcp-fin.pcapng false "nmap -n -Pn -sF -p 1-200 192.0.2.2 (tcp-fin.pcap converted with editcap -F pcapng)" \
        "$V4=tcp-fin,vertical"
    if wanted tcp-fin.pcapng; then
        [[ -s $OUTDIR/tcp-fin.pcap ]] || die "tcp-fin.pcapng needs tcp-fin.pcap"
        editcap -F pcapng "$OUTDIR/tcp-fin.pcap" "$OUTDIR/tcp-fin.pcapng"
        log "tcp-fin.pcapng: converted from tcp-fin.pcap ($(stat -c %s "$OUTDIR/tcp-fin.pcapng") bytes)"
    fi
    # a UDP scan captured on the "any" device with LINUX_SLL2 link-layer headers
    nmap_scan udp-sll2.pcap    180 "$V4=udp,vertical" sll2 -- -n -Pn -sU -p 1-40 192.0.2.2

    benign_web
    benign_dns
    benign_traceroute
    benign_burst
    benign_refused
    benign_mixed_v6
}

PAGES="index.html,about.html,news.html,contact.html,faq.html,style.css,app.js,logo.svg,robots.txt,data.json"

benign_web() {
    local f=benign-web.pcap
    label $f true "20 clients 192.0.2.10-29 in SCAN, 5 at a time, each: curl -s --interface CLIENT http://192.0.2.2/{$PAGES} (200 requests)" ""
    wanted $f || return 0
    log "$f: 20 web clients x 10 pages"
    local i
    for i in $(seq 10 29); do ip -n "$SCAN" addr add "192.0.2.$i/24" dev "$VS"; done
    start_capture $f
    seq 10 29 | run_in "$SCAN" 120 xargs -P 5 -I{} \
        curl -s -S --max-time 10 --interface 192.0.2.{} -o /dev/null \
        "http://192.0.2.2/{$PAGES}" || FAILED+=($f)
    stop_capture $f
    for i in $(seq 10 29); do ip -n "$SCAN" addr del "192.0.2.$i/24" dev "$VS"; done
}

benign_dns() {
    local f=benign-dns.pcap
    label $f true "dig @192.0.2.2 nameN.example A for N=1..100, 10 in parallel" ""
    wanted $f || return 0
    log "$f: 100 DNS queries"
    start_capture $f
    seq 1 100 | run_in "$SCAN" 120 xargs -P 10 -I{} \
        dig +tries=1 +time=2 +short @192.0.2.2 name{}.example A || FAILED+=($f)
    log "  answers: $(grep -c '^203.0.113.53$' "$WORK/run.log" || true)/100"
    stop_capture $f
}

benign_traceroute() {
    local f=benign-traceroute.pcap
    label $f true "from TGT (the monitored host): traceroute -n 192.0.2.1; traceroute -n -I 192.0.2.1; traceroute -n -T -p 80 192.0.2.1" ""
    wanted $f || return 0
    log "$f: traceroute (UDP, ICMP, TCP) from TGT to SCAN"
    start_capture $f
    run_in "$TGT" 60 traceroute -n 192.0.2.1 || FAILED+=($f)
    run_in "$TGT" 60 traceroute -n -I 192.0.2.1 || FAILED+=($f)
    run_in "$TGT" 60 traceroute -n -T -p 80 192.0.2.1 || FAILED+=($f)
    stop_capture $f
}

benign_burst() {
    local f=benign-burst.pcap
    label $f true "200 simultaneous TCP connections from 192.0.2.1 to 192.0.2.2:80, one HTTP GET each (tools/burst.py)" ""
    wanted $f || return 0
    log "$f: 200 parallel HTTP connections"
    start_capture $f
    run_in "$SCAN" 60 "$PY" "$HERE/tools/burst.py" 192.0.2.2 80 200 || FAILED+=($f)
    stop_capture $f
}

benign_refused() {
    local f=benign-refused.pcap
    label $f true "curl --max-time 1 http://192.0.2.2:8081/ (closed port) 5 times, 1 s apart" ""
    wanted $f || return 0
    log "$f: 5 refused connections to 8081"
    start_capture $f
    local i
    for i in 1 2 3 4 5; do
        in_scan timeout 5 curl -s --max-time 1 -o /dev/null http://192.0.2.2:8081/ || true
            [[ $i == 5 ]] || sleep 1
    done
    stop_capture $f
}

benign_mixed_v6() {
    local f=benign-mixed-v6.pcap
    label $f true "3 rounds of: curl -g -s http://[2001:db8::2]/index.html .../about.html .../news.html .../style.css; ping -6 -c 3 -i 0.5 2001:db8::2" ""
    wanted $f || return 0
    log "$f: IPv6 web fetches and pings"
    start_capture $f
    local i
    for i in 1 2 3; do
        # -g (no URL globbing) for the IPv6 literal, so the URLs are listed
        run_in "$SCAN" 30 curl -g -s -S --max-time 10 \
            -o /dev/null "http://[2001:db8::2]/index.html" -o /dev/null "http://[2001:db8::2]/about.html" \
            -o /dev/null "http://[2001:db8::2]/news.html" -o /dev/null "http://[2001:db8::2]/style.css" \
            || FAILED+=($f)
        run_in "$SCAN" 30 ping -6 -n -c 3 -i 0.5 2001:db8::2 || FAILED+=($f)
    done
    stop_capture $f
}

# ------------------------------------------------------------------- labels --
write_labels() {
    printf '%s\n' "${LABELS[@]}" | "$PY" -c '
import json, sys
caps = []
for line in sys.stdin.read().splitlines():
    f, benign, cmd, expect = line.split("\t")
    exp = []
    for item in filter(None, expect.split(";")):
        src, kinds = item.split("=")
        exp.append({"source": src, "kinds": kinds.split(",")})
    caps.append({"file": f, "command": cmd, "benign": benign == "true", "expect": exp})
json.dump({"captures": caps}, sys.stdout, indent=2)
sys.stdout.write("\n")
' >"$OUTDIR/labels.json"
    log "wrote $OUTDIR/labels.json (${#LABELS[@]} captures)"
}

# --------------------------------------------------------------------- main --
setup
scenarios
write_labels
log "done in $(( $(date +%s) - T0 )) s; output in $OUTDIR"
if ((${#FAILED[@]})); then
    echo "generate.sh: failed scenarios: ${FAILED[*]}" >&2
    exit 1
fi
