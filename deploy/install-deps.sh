#!/usr/bin/env bash
# Installs the Debian packages PortSentinel needs that are missing (run as root).
#   deploy/install-deps.sh           what the sensor needs at run time
#   deploy/install-deps.sh --test    and what the test suite needs
#   deploy/install-deps.sh --corpus  and what tests/corpus/generate.sh needs to record captures
#   deploy/install-deps.sh --fuzz    and what bench/fuzz.sh needs (afl++, the sharpfuzz dotnet tool); CI does not fuzz
set -euo pipefail

runtime=(libpcap0.8 libnftables1 nftables)
test=(nmap iproute2 fail2ban ipset iptables socat chromium postgresql)
corpus=(nmap tcpdump iproute2 dnsutils traceroute python3 curl iputils-ping wireshark-common)
fuzz=(afl++)
sharpfuzz=

wanted=("${runtime[@]}")
for arg in "$@"; do
  case "$arg" in
    --test) wanted+=("${test[@]}") ;;
    --corpus) wanted+=("${test[@]}" "${corpus[@]}") ;;
    --fuzz) wanted+=("${fuzz[@]}"); sharpfuzz=yes ;;
    *) echo "install-deps: unknown option $arg (use --test, --corpus or --fuzz)" >&2; exit 2 ;;
  esac
done

if ! command -v dotnet >/dev/null || ! dotnet --list-sdks | grep -q '^10\.'; then
  echo "install-deps: the .NET 10 SDK is missing; install it first (https://learn.microsoft.com/dotnet/core/install/linux-debian)." >&2
  exit 1
fi

# SharpFuzz's instrumenter is a dotnet tool, from NuGet (the version docs/fuzzing.md names).
if [[ -n $sharpfuzz ]] && ! command -v sharpfuzz >/dev/null && [[ ! -x $HOME/.dotnet/tools/sharpfuzz ]]; then
  echo "install-deps: installing the sharpfuzz dotnet tool (SharpFuzz.CommandLine 2.3.0)"
  dotnet tool install --global SharpFuzz.CommandLine --version 2.3.0 >/dev/null
fi

missing=()
for pkg in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
# The build installs the dashboard's JavaScript dependencies with npm: any Node.js with npm will
# do, Debian's when there is none.
command -v npm >/dev/null || missing+=(nodejs npm)
if ((${#missing[@]} == 0)); then
  exit 0
fi
if [[ $EUID -ne 0 ]]; then
  echo "install-deps: missing ${missing[*]}; run as root (sudo $0 $*)." >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
