#!/usr/bin/env bash
# Backtests every behavioural world of `simulate` at capacities 12 and 24, whole-period
# plans as the outside tests use, for several seeds, and prints one table.
# Each world has six sessions (2021-2026); `backtest --all` replays 2023-2026, each
# session trained on the ones before it. A session trained on four sessions or more
# (2025, 2026) has two held-out sessions in its model, so its promise is calibrated
# (src/promise.rs): the table sets the coverage those replays promised beside the
# coverage the session then had. The truth file covers the last session (2026).
# The worlds share the baseline's random stream, so one seed's worlds see the same
# sessions' luck: only more seeds make a difference of a few tenths of a point mean
# anything.
# Usage: scripts/worlds.sh [candidates-per-session] [seed...]   (default 1500; 2026-2030)
# BIN=path runs another build (an older one, to compare) instead of building this one.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1500}
shift || true
seeds=("${@:-2026 2027 2028 2029 2030}")
read -r -a seeds <<<"${seeds[*]}"
worlds=(${WORLDS:-baseline heterogeneous rules centers trend shocks papers classes enough})
if [[ -z "${BIN:-}" ]]; then
  cargo build --release --quiet
  bin=target/release/bacpredict
else
  bin=$BIN
fi
dir=${OUT:-target/worlds}
rm -rf "$dir" && mkdir -p "$dir"
for seed in "${seeds[@]}"; do
  for world in "${worlds[@]}"; do
    out="$dir/$seed/$world"
    "$bin" simulate --out "$out" --world "$world" --candidates "$n" --centers 14 \
      --sessions 6 --seed "$seed" -q >/dev/null
    for cap in 12 24; do
      "$bin" backtest --history "$out/history.csv" --all --oracle "$out/truth.csv" \
        --whole-period --capacity "$cap" --json -q >"$out/bt-$cap.json" &
    done
    wait
  done
done
python3 - "$dir" "${seeds[*]}" "${worlds[*]}" <<'PY'
import json, statistics, sys
d, seeds, worlds = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
mean = statistics.mean
print(f"Seeds {', '.join(seeds)}; coverage and WAPE averaged over the sessions 2023-2026 and the seeds,")
print("log-loss and redundancy on 2026 (the only session the truth file covers), averaged over the seeds;")
print("'promised' is the mean coverage the replayed past sessions gave the calibrated widening (2025, 2026),")
print("'realised' what those sessions then had.")
print()
print("| world | capacity | log-loss vs truth | subject WAPE | coverage | lowest session | redundancy | truth's redundancy | promised | realised | worst realised |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
rows = []
for world in worlds:
    for cap in (12, 24):
        runs = [json.load(open(f"{d}/{s}/{world}/bt-{cap}.json")) for s in seeds]
        last = [r["sessions"][-1] for r in runs]
        oracle = [l["baselines"]["oracle (true probabilities)"] for l in last]
        sessions = [s for x in runs for s in x["sessions"]]
        checked = [s for s in sessions if s.get("promise", {}).get("sessions")]
        promised = [mean(r["coverage"] for r in s["promise"]["sessions"]) for s in checked]
        r = dict(
            ll=mean(l["log_loss"] / o["log_loss"] - 1 for l, o in zip(last, oracle)),
            wape=mean(s["wape_subject"] for s in sessions),
            cov=mean(s["coverage"] for s in sessions),
            low=min(s["coverage"] for s in sessions),
            red=mean(l["redundancy"] for l in last),
            red_o=mean(o["redundancy"] for o in oracle),
            prom=mean(promised) if promised else float("nan"),
            real=mean(s["coverage"] for s in checked) if checked else float("nan"),
            worst=min(s["coverage"] for s in checked) if checked else float("nan"),
        )
        rows.append(r)
        print(f"| {world} | {cap} | +{100 * r['ll']:.1f}% | {100 * r['wape']:.1f}% | {100 * r['cov']:.2f}% | "
              f"{100 * r['low']:.2f}% | {100 * r['red']:.1f}% | {100 * r['red_o']:.1f}% | "
              f"{100 * r['prom']:.2f}% | {100 * r['real']:.2f}% | {100 * r['worst']:.2f}% |")
print(f"| all | | worst +{100 * max(r['ll'] for r in rows):.1f}% | {100 * mean(r['wape'] for r in rows):.1f}% | "
      f"{100 * mean(r['cov'] for r in rows):.2f}% (worst world {100 * min(r['cov'] for r in rows):.2f}%) | "
      f"{100 * min(r['low'] for r in rows):.2f}% | {100 * mean(r['red'] for r in rows):.1f}% | "
      f"{100 * mean(r['red_o'] for r in rows):.1f}% | {100 * mean(r['prom'] for r in rows):.2f}% | "
      f"{100 * mean(r['real'] for r in rows):.2f}% | {100 * min(r['worst'] for r in rows):.2f}% |")
PY
