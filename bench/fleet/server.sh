# Sourced by the fleet benchmarks: a PostgreSQL server of the script's own in $work/pg (made by
# the caller, which removes it), on a Unix socket only (no TCP: sensors in other network
# namespaces share the file system, not a network), trust authentication for local connections
# only, default durability; PG_SETTINGS adds server settings (e.g. '-c synchronous_commit=off').
# Sets $store, the connection string of its database "fleet", and $pgbin; stop_server stops it.
#   source "$(dirname "$0")/server.sh"; start_server [SETTINGS]
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[[ -x $pgbin/initdb ]] || { echo "$(basename "$0"): needs PostgreSQL's server (deploy/install-deps.sh --test installs postgresql)" >&2; exit 1; }
start_server() {
  mkdir "$work/pg"
  chown postgres: "$work/pg"
  runuser -u postgres -- "$pgbin/initdb" -D "$work/pg/data" -U portsentinel --auth=trust -E UTF8 --locale=C >/dev/null
  runuser -u postgres -- "$pgbin/pg_ctl" -D "$work/pg/data" -l "$work/pg/log" -w -o "-k $work/pg -c listen_addresses='' $* ${PG_SETTINGS:-}" start >/dev/null
  runuser -u postgres -- "$pgbin/createdb" -h "$work/pg" -U portsentinel fleet
  store="Host=$work/pg;Database=fleet;Username=portsentinel"
}
stop_server() {
  [[ -f $work/pg/data/postmaster.pid ]] && runuser -u postgres -- "$pgbin/pg_ctl" -D "$work/pg/data" -m fast -w stop >/dev/null 2>&1 || true
}
