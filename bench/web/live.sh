#!/usr/bin/env bash
# How many live events a second an open page keeps up with: connections to the sensor's
# connect-mode trap on 127.0.0.1 at RATE a second (default 2000; 0: as fast as one client can) for
# DURATION seconds (default 10), each a tripwire alert that the sensor decides, records and publishes;
# meanwhile one client reads the live stream (curl, as a page's EventSource does) and counts what
# reached it. Loopback is allowlisted: the alerts are decided, never blocked.
#   RATE=5000 bench/web/live.sh
source "$(dirname "$0")/server.sh"
rate="${RATE:-2000}"
seconds="${DURATION:-10}"
trap_port="${TRAP_PORT:-5098}"
start_sensor --set "Trap:TcpPorts:0=$trap_port"
curl -sN -H "Authorization: Bearer $token" "$base/api/v1/live" >"$work/live.txt" &
curl_pid=$!
sleep 1
python3 - "$trap_port" "$rate" "$seconds" >"$work/sent.txt" <<'PY'
import socket, sys, time
port, rate, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
start = time.monotonic(); sent = 0
while (now := time.monotonic()) - start < seconds:
    due = int((now - start) * rate) + 1 if rate else sent + 100
    while sent < due:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
        sent += 1
    if rate:
        time.sleep(0.002)
elapsed = time.monotonic() - start
print(sent)
print(f"live: {sent} trap contacts in {elapsed:.2f} s ({sent / elapsed:.0f}/s)", file=sys.stderr)
PY
contacts=$(cat "$work/sent.txt")
sleep 5
kill "$curl_pid"
python3 - "$work/live.txt" "$contacts" <<'PY'
import json, sys
received = lost = messages = 0
event = None
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    if line.startswith("event: "):
        event = line[7:]
    elif line.startswith("data: "):
        data = json.loads(line[6:])
        if event == "alert":
            received += 1; messages += 1
        elif event == "alerts":
            received += data["raised"]; messages += 1
        elif event == "lost":
            lost = data["events"]
print(f"live: {received} of {sys.argv[2]} alerts reached the page in {messages} messages; {lost} lost")
PY
kill "$sensor_pid" && wait "$sensor_pid" || true
sensor_pid=""
echo "live: $(grep -c "DETECTED 127.0.0.1" "$work/sensor.log") detections decided by the sensor"
grep -E "detections found the queue full" "$work/sensor.log" || true
