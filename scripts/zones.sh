#!/usr/bin/env bash
# Zones measured: bacpredict without and with `--zones` (regrouping, pooled reserves,
# moves) on the sample and on simulated académies, per half-day at capacity 8, every
# session that has two earlier ones replayed (`backtest --all`), one table.
# "used" is firm examiner half-days plus reserves called; "needed" is what a clairvoyant
# office would convene cell by cell (without / with the regrouping).
# Usage: scripts/zones.sh [centres] [candidates] [seed] [world...]
#   default: 30 centres, 2500 candidates a session, seed 2031, seven worlds.
# BIN=path runs another build; OUT=dir keeps the files (default target/zones);
# REGROUP=none measures pooled reserves and moves alone.
set -euo pipefail
cd "$(dirname "$0")/.."
centers=${1:-30}
n=${2:-2500}
seed=${3:-2031}
shift 3 || shift $#
worlds=("${@:-shocks centers heterogeneous trend papers classes enough}")
read -r -a worlds <<<"${worlds[*]}"
if [[ -z "${BIN:-}" ]]; then
  cargo build --release --quiet
  bin=target/release/bacpredict
else
  bin=$BIN
fi
dir=${OUT:-target/zones}
rm -rf "$dir" && mkdir -p "$dir"
regroup=(--regroup "${REGROUP:-auto}")
"$bin" backtest --history data/sample/history.csv --all --zones data/sample/zones.csv \
  "${regroup[@]}" --json -q >"$dir/sample.json"
for world in "${worlds[@]}"; do
  out="$dir/$world"
  "$bin" simulate --out "$out" --world "$world" --candidates "$n" --centers "$centers" \
    --sessions 5 --days 2 --seed "$seed" -q >/dev/null
  "$bin" backtest --history "$out/history.csv" --all --zones "$out/zones.csv" \
    "${regroup[@]}" --json -q >"$dir/$world.json"
done
python3 - "$dir" sample "${worlds[@]}" <<'PY'
import json, sys
d = sys.argv[1]
print("| académie | needed, cell by cell / regrouped | used without zones | used with zones "
      "| firm coverage, without zones / with zones after moves | with reserves, without / with zones "
      "| reserves on call, without / with | reserves called | moves |")
print("|---|---|---|---|---|---|---|---|---|")
for w in sys.argv[2:]:
    a = json.load(open(f"{d}/{w}.json"))["average"]
    z = a["baselines"]["bacpredict, regrouped by zone"]
    pct = lambda v: f"{100 * v:.2f}%"
    print(f"| {w} | {a['needed']} / {z['needed']} | {a['used']} | {z['used']} "
          f"({100 * (z['used'] / a['used'] - 1):+.1f}%) | {pct(a['coverage'])} / "
          f"{pct(z['coverage_with_moves'])} | {pct(a['coverage_with_reserve'])} / "
          f"{pct(z['coverage_with_reserve'])} | {a['reserve']} / {z['reserve']} "
          f"| {a['reserve_calls']} / {z['reserve_calls']} | {z['moves']} |")
PY
