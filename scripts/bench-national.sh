#!/usr/bin/env bash
# National-scale benchmark: about 70,000 second-group candidates a session over 5
# sessions (about 1.4 million rows). Times whole processes, CSV reading included, and
# reports peak memory (GNU time's maximum resident set size).
# Usage: scripts/bench-national.sh [candidates-per-session]   (needs /usr/bin/time)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-70000}
cargo build --release --quiet
bin=target/release/bacpredict
dir=target/bench-national
rm -rf "$dir"
"$bin" simulate --out "$dir" --candidates "$n" --centers 400 --sessions 5 --seed 1 -q >/dev/null
# Flush the simulated files to disk first: otherwise the kernel writes them back while
# `train` runs, and the benchmark times that too.
sync
rows=$(($(wc -l <"$dir/history.csv") - 1))
echo "history: $rows rows, $(du -h "$dir/history.csv" | cut -f1)"
measure() {
  local label=$1; shift
  /usr/bin/time -f "$label: %e s wall, %M KiB peak RSS" "$@" -q >/dev/null
}
measure train "$bin" train --history "$dir/history.csv" --model "$dir/model.json"
measure forecast "$bin" forecast --model "$dir/model.json" --candidates "$dir/candidates.csv" --out "$dir/out"
