#!/usr/bin/env bash
# Installs PortSentinel as a service (run as root from a clone):
#   deploy/install.sh              publish to /opt/portsentinel, add the portsentinel user, install and
#                                  enable the systemd unit and the fail2ban filter
#   DESTDIR=/tmp/stage deploy/install.sh   stage the same files under DESTDIR only (no user, no systemctl)
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
dest="${DESTDIR:-}"

"$root/deploy/install-deps.sh"
dotnet publish "$root/src/PortSentinel.Cli/PortSentinel.Cli.csproj" -c Release -o "$dest/opt/portsentinel/bin" -nologo -v quiet
install -d "$dest/opt/portsentinel/docs" "$dest/etc/systemd/system" "$dest/etc/fail2ban/filter.d" "$dest/etc/fail2ban/jail.d"
install -m 0644 "$root"/docs/*.md "$dest/opt/portsentinel/docs/"
install -m 0644 "$root/deploy/portsentinel.service" "$dest/etc/systemd/system/portsentinel.service"
install -m 0644 "$root/deploy/fail2ban/filter.d/portsentinel.conf" "$dest/etc/fail2ban/filter.d/portsentinel.conf"
install -m 0644 "$root/deploy/fail2ban/jail.d/portsentinel.conf" "$dest/etc/fail2ban/jail.d/portsentinel.conf.disabled"

if [[ -n "$dest" ]]; then
  echo "install: staged under $dest"
  exit 0
fi
id portsentinel >/dev/null 2>&1 || useradd --system --home-dir /var/lib/portsentinel --shell /usr/sbin/nologin portsentinel
systemctl daemon-reload
systemctl enable --now portsentinel.service
echo "install: portsentinel.service is running; 'journalctl -u portsentinel' shows its log."
echo "install: to let fail2ban follow it, rename /etc/fail2ban/jail.d/portsentinel.conf.disabled to .conf."
