#!/usr/bin/env bash
# The fleet's store under load: SENSORS simulated sensors (bench/PortSentinel.FleetLoad, built in
# Release), each with connections of its own to one real PostgreSQL server of the script's own
# (bench/fleet/server.sh, default durability), write ALERTS alerts and BANS bans a second between
# them for SECONDS, while every one follows the fleet's blocklist as a sensor does. Prints the
# rates held, the propagation latency under that load and the database's growth per million
# alerts. Needs root (the server runs as postgres) and PostgreSQL's server (deploy/install-deps.sh
# --test). Nothing leaves the machine: the server listens on a Unix socket only.
#   bench/fleet/load.sh [SENSORS (100)] [SECONDS (60)] [ALERTS (1000)] [BANS (20)]
set -euo pipefail
sensors=${1:-100} seconds=${2:-60} alerts=${3:-1000} bans=${4:-20}
[[ $EUID -eq 0 ]] || { echo "load: run as root (the server runs as postgres)" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$here/server.sh"
work=$(mktemp -d)
chmod 755 "$work"
trap 'stop_server; rm -rf "$work"' EXIT

dotnet build "$root/bench/PortSentinel.FleetLoad/PortSentinel.FleetLoad.csproj" -c Release -o "$work/load" -nologo -v quiet >"$work/build.log" 2>&1 \
  || { cat "$work/build.log" >&2; exit 1; }
# Three connections a sensor: its listener, its writes, its reads of the changes.
start_server -c max_connections=$((sensors * 3 + 20))
"$work/load/PortSentinel.FleetLoad" --store "$store;Maximum Pool Size=3" --sensors "$sensors" --seconds "$seconds" --alerts "$alerts" --bans "$bans"
