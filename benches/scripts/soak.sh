#!/usr/bin/env bash
# Soak: the demo (release build) for DURATION seconds (default 1800) with a
# scrape every second and an OTLP receiver (rotel) that goes away for a
# minute every five. Every 30 s it prints one CSV row of the demo's resident
# memory, open fds, threads, and the number of series it exposes; flat after
# warm-up is the pass condition (see RELIABILITY.md for the last run).
#
#   benches/scripts/soak.sh [DURATION_SECONDS] > soak.csv
set -euo pipefail
cd "$(dirname "$0")/../.."
duration=${1:-1800}
cargo build -q --release --example photon-demo
rotel_bin=$(python3 -c 'import rotel,os;print(os.path.dirname(rotel.__file__))')/rotel-agent
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
grpc=$(port); http=$(port); listen=$(port)
work=$(mktemp -d)
rotel_pid=""
start_rotel() {
  "$rotel_bin" start --otlp-grpc-endpoint "127.0.0.1:$grpc" --otlp-http-endpoint "127.0.0.1:$http" \
    --exporter blackhole > "$work/rotel.log" 2>&1 &
  rotel_pid=$!
}
cleanup() { kill "$demo_pid" "$scraper_pid" ${rotel_pid:+"$rotel_pid"} 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

start_rotel
target/release/examples/photon-demo --listen "127.0.0.1:$listen" --otlp "http://127.0.0.1:$grpc" \
  --log-format off --duration "$((duration + 30))" 2> "$work/demo.err" &
demo_pid=$!
sleep 2
( while kill -0 "$demo_pid" 2>/dev/null; do
    curl -s -o /dev/null -H 'Accept: application/openmetrics-text; version=1.0.0' "http://127.0.0.1:$listen/metrics" || true
    sleep 1
  done ) &
scraper_pid=$!

echo "seconds,rss_kib,fds,threads,series,collector"
start=$(date +%s)
while :; do
  elapsed=$(( $(date +%s) - start ))
  [ "$elapsed" -gt "$duration" ] && break
  # The collector is away for the second minute of every five.
  phase=$(( elapsed % 300 ))
  if [ "$phase" -ge 60 ] && [ "$phase" -lt 120 ]; then
    if [ -n "$rotel_pid" ]; then kill "$rotel_pid" 2>/dev/null || true; wait "$rotel_pid" 2>/dev/null || true; rotel_pid=""; fi
    collector=down
  else
    [ -z "$rotel_pid" ] && start_rotel
    collector=up
  fi
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$demo_pid/status")
  fds=$(ls "/proc/$demo_pid/fd" | wc -l)
  threads=$(ls "/proc/$demo_pid/task" | wc -l)
  series=$(curl -s "http://127.0.0.1:$listen/metrics" | grep -vc '^#' || true)
  echo "$elapsed,$rss,$fds,$threads,$series,$collector"
  sleep 30
done
