#!/usr/bin/env bash
# Load on /metrics: wrk with 16 connections for 30 s against the demo
# (release build) while it records, and the demo's recording rate before
# and during the load (compilations plus inference calls per second, from
# its own counters). See RELIABILITY.md for the last run.
#
#   benches/scripts/metrics-load.sh          (needs wrk: apt-get install wrk)
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install -y wrk" >&2; exit 1; }
cargo build -q --release --example photon-demo
listen=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
target/release/examples/photon-demo --listen "127.0.0.1:$listen" --log-format off --duration 120 2>/dev/null &
demo=$!
trap 'kill $demo 2>/dev/null || true' EXIT
url="http://127.0.0.1:$listen/metrics"
sleep 3

# Records so far: every compilation and every inference call the demo made.
records() {
  curl -s "$url" | awk '/^photon_compilations_total[{ ]/ || /^photon_inference_latency_seconds_count[{ ]/ {n += $NF} END {printf "%d", n}'
}
rate_over() {  # records per second over $1 seconds
  local a b; a=$(records); sleep "$1"; b=$(records)
  echo "scale=1; ($b - $a) / $1" | bc
}

echo "body: $(curl -s "$url" | wc -c) bytes, $(curl -s "$url" | grep -vc '^#') series lines"
echo "recording rate before load: $(rate_over 10) records/s"
wrk -t2 -c16 -d30s --latency "$url" > wrk.out 2>&1 &
wrk_pid=$!
sleep 10
echo "recording rate during load: $(rate_over 10) records/s"
wait "$wrk_pid"
cat wrk.out
rm -f wrk.out
