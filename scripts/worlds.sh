#!/usr/bin/env bash
# Backtests every behavioural world of `simulate` (rolling origin over 2023-2025, each
# session trained on the ones before it) at capacities 12 and 24, whole-period plans as
# the outside tests use, and prints one table.
# Usage: scripts/worlds.sh [candidates-per-session] [seed]     (default 1500, 2026)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1500}
seed=${2:-2026}
cargo build --release --quiet
bin=target/release/bacpredict
dir=target/worlds
rm -rf "$dir" && mkdir -p "$dir"
for world in baseline heterogeneous rules centers trend shocks; do
  "$bin" simulate --out "$dir/$world" --world "$world" --candidates "$n" --centers 14 \
    --seed "$seed" -q >/dev/null
  for cap in 12 24; do
    "$bin" backtest --history "$dir/$world/history.csv" --all --oracle "$dir/$world/truth.csv" \
      --whole-period --capacity "$cap" --json -q >"$dir/$world/bt-$cap.json"
  done
done
python3 - "$dir" <<'PY'
import json, sys
d = sys.argv[1]
print("| world | capacity | log-loss vs truth (2025) | subject WAPE (avg) | coverage (avg) | min coverage | redundancy (2025) | truth's redundancy (2025) |")
print("|---|---|---|---|---|---|---|---|")
for world in ["baseline", "heterogeneous", "rules", "centers", "trend", "shocks"]:
    for cap in (12, 24):
        v = json.load(open(f"{d}/{world}/bt-{cap}.json"))
        last = v["sessions"][-1]
        oracle = last["baselines"].get("oracle (true probabilities)")
        avg = v["average"]
        covs = [s["coverage"] for s in v["sessions"]]
        ll = f"+{100 * (last['log_loss'] / oracle['log_loss'] - 1):.1f}%" if oracle else "-"
        red_o = f"{100 * oracle['redundancy']:.1f}%" if oracle else "-"
        print(f"| {world} | {cap} | {ll} | {100 * avg['wape_subject']:.1f}% | {100 * avg['coverage']:.2f}% | "
              f"{100 * min(covs):.2f}% | {100 * last['redundancy']:.1f}% | {red_o} |")
PY
