#!/usr/bin/env bash
# Coverage-guided fuzzing of the decoder, the capture-file reader and the settings parser with
# afl-fuzz and SharpFuzz (docs/fuzzing.md). Installs nothing: it says what is missing.
#   bench/fuzz.sh [SECONDS] [TARGET...]     SECONDS per target (default 300); TARGETs: decode pcap settings (default all)
# FUZZ_OUT (default /tmp/portsentinel-fuzz) holds the build, the findings and crashes/TARGET/, where
# every crash input is copied; replay one with
#   dotnet $FUZZ_OUT/plain/PortSentinel.Fuzz.dll replay TARGET FILE
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

seconds=${1:-300}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(decode pcap settings)
[[ $seconds =~ ^[0-9]+$ ]] || { echo "fuzz: SECONDS must be a number, not $seconds" >&2; exit 2; }
for t in "${targets[@]}"; do
  [[ $t == decode || $t == pcap || $t == settings ]] || { echo "fuzz: unknown target $t (decode, pcap, settings)" >&2; exit 2; }
done

export PATH="$PATH:$HOME/.dotnet/tools"
missing=()
command -v afl-fuzz >/dev/null || missing+=("afl-fuzz: apt-get install afl++ (or deploy/install-deps.sh --fuzz)")
command -v sharpfuzz >/dev/null || missing+=("sharpfuzz: dotnet tool install --global SharpFuzz.CommandLine --version 2.3.0 (or deploy/install-deps.sh --fuzz)")
if ((${#missing[@]})); then
  printf 'fuzz: missing %s\n' "${missing[@]}" >&2
  exit 1
fi

out=${FUZZ_OUT:-/tmp/portsentinel-fuzz}
mkdir -p "$out/findings"
echo "fuzz: building the harness (Release) into $out"
rm -rf "$out/plain" "$out/instrumented"
dotnet publish bench/PortSentinel.Fuzz -c Release -o "$out/plain" -nologo -v quiet >/dev/null
# Seeds and replays run the plain build: instrumented code outside afl-fuzz has no coverage map.
cp -r "$out/plain" "$out/instrumented"
# The product's own assemblies, where the contracts live; the framework and libpcap are not instrumented.
for dll in PortSentinel.dll PortSentinel.Cli.dll; do
  sharpfuzz "$out/instrumented/$dll" >/dev/null
done

# afl-fuzz would refuse to start when cores are piped to a handler, or when the CPU governor scales.
[[ $(cat /proc/sys/kernel/core_pattern) == \|* ]] && export AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
export AFL_SKIP_CPUFREQ=1
# The target is the dotnet host, which afl-fuzz's own instrumentation check cannot see into.
export AFL_SKIP_BIN_CHECK=1
export AFL_NO_UI=1 AFL_NO_AFFINITY=1 AFL_QUIET=1
export DOTNET_CLI_TELEMETRY_OPTOUT=1
# The settings target reads the environment as run does: the shell's own settings stay out of it.
for v in $(compgen -e PORTSENTINEL__ || true); do unset "$v"; done

declare -A stats
for t in "${targets[@]}"; do
  seeds=$out/seeds/$t findings=$out/findings/$t
  rm -rf "$seeds" "$findings"
  dotnet "$out/plain/PortSentinel.Fuzz.dll" seeds "$t" "$root" "$seeds"
  # Past crashes seed the search too.
  find "tests/fuzz/crashes/$t" -type f ! -name '.*' -exec cp {} "$seeds/" \;
  dict=()
  [[ $t == settings ]] && dict=(-x bench/fuzz/settings.dict)
  echo "fuzz: $t for ${seconds}s from $(find "$seeds" -type f | wc -l) seeds"
  nice -n 10 afl-fuzz -i "$seeds" -o "$findings" -V "$seconds" -t 10000 -m none "${dict[@]}" \
    -- dotnet "$out/instrumented/PortSentinel.Fuzz.dll" "$t" >"$out/$t.log" 2>&1 \
    || echo "fuzz: afl-fuzz ended with status $? for $t; see $out/$t.log" >&2
  crashes=$out/crashes/$t
  mkdir -p "$crashes"
  find "$findings/default/crashes" -type f -name 'id:*' -exec cp {} "$crashes/" \; 2>/dev/null || true
  stats[$t]=$findings/default/fuzzer_stats
done

field() { awk -F' *: *' -v k="$1" '$1 == k { print $2 }' "$2"; }
printf '\n%-9s %8s %14s %10s %8s %8s %6s  %s\n' target seconds executions execs/s paths crashes hangs crash-inputs
for t in "${targets[@]}"; do
  s=${stats[$t]}
  if [[ ! -f $s ]]; then
    printf '%-9s %s\n' "$t" "no fuzzer_stats: afl-fuzz did not start (see $out/$t.log)"
    continue
  fi
  printf '%-9s %8s %14s %10s %8s %8s %6s  %s\n' "$t" "$(field run_time "$s")" "$(field execs_done "$s")" "$(field execs_per_sec "$s")" \
    "$(field corpus_count "$s")" "$(field saved_crashes "$s")" "$(field saved_hangs "$s")" "$out/crashes/$t"
done
