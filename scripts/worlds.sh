#!/usr/bin/env bash
# Backtests every behavioural world of `simulate` (rolling origin over 2023-2025, each
# session trained on the ones before it) at capacities 12 and 24, whole-period plans as
# the outside tests use, for several seeds, and prints one table.
# The worlds share the baseline's random stream, so one seed's worlds see the same
# sessions' luck: only more seeds make a difference of a few tenths of a point mean
# anything.
# Usage: scripts/worlds.sh [candidates-per-session] [seed...]   (default 1500; 2026 2027 2028)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1500}
shift || true
seeds=("${@:-2026 2027 2028}")
read -r -a seeds <<<"${seeds[*]}"
worlds=(baseline heterogeneous rules centers trend shocks)
cargo build --release --quiet
bin=target/release/bacpredict
dir=target/worlds
rm -rf "$dir" && mkdir -p "$dir"
for seed in "${seeds[@]}"; do
  for world in "${worlds[@]}"; do
    out="$dir/$seed/$world"
    "$bin" simulate --out "$out" --world "$world" --candidates "$n" --centers 14 \
      --seed "$seed" -q >/dev/null
    for cap in 12 24; do
      "$bin" backtest --history "$out/history.csv" --all --oracle "$out/truth.csv" \
        --whole-period --capacity "$cap" --json -q >"$out/bt-$cap.json"
    done
  done
done
python3 - "$dir" "${seeds[*]}" "${worlds[*]}" <<'PY'
import json, statistics, sys
d, seeds, worlds = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
mean = statistics.mean
print(f"Seeds {', '.join(seeds)}; coverage and WAPE averaged over the sessions 2023-2025 and the seeds,")
print("the rest on 2025 (the only session the truth file covers), averaged over the seeds.")
print()
print("| world | capacity | log-loss vs truth | subject WAPE | coverage | lowest session | redundancy | truth's redundancy |")
print("|---|---|---|---|---|---|---|---|")
rows = []
for world in worlds:
    for cap in (12, 24):
        runs = [json.load(open(f"{d}/{s}/{world}/bt-{cap}.json")) for s in seeds]
        last = [r["sessions"][-1] for r in runs]
        oracle = [l["baselines"]["oracle (true probabilities)"] for l in last]
        r = dict(
            ll=mean(l["log_loss"] / o["log_loss"] - 1 for l, o in zip(last, oracle)),
            wape=mean(s["wape_subject"] for x in runs for s in x["sessions"]),
            cov=mean(s["coverage"] for x in runs for s in x["sessions"]),
            low=min(s["coverage"] for x in runs for s in x["sessions"]),
            red=mean(l["redundancy"] for l in last),
            red_o=mean(o["redundancy"] for o in oracle),
        )
        rows.append(r)
        print(f"| {world} | {cap} | +{100 * r['ll']:.1f}% | {100 * r['wape']:.1f}% | {100 * r['cov']:.2f}% | "
              f"{100 * r['low']:.2f}% | {100 * r['red']:.1f}% | {100 * r['red_o']:.1f}% |")
print(f"| all | | worst +{100 * max(r['ll'] for r in rows):.1f}% | {100 * mean(r['wape'] for r in rows):.1f}% | "
      f"{100 * mean(r['cov'] for r in rows):.2f}% (worst world {100 * min(r['cov'] for r in rows):.2f}%) | "
      f"{100 * min(r['low'] for r in rows):.2f}% | {100 * mean(r['red'] for r in rows):.1f}% | "
      f"{100 * mean(r['red_o'] for r in rows):.1f}% |")
PY
