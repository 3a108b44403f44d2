#!/usr/bin/env bash
# Results day on the bundled sample: the plan for 2025 made from 2021-2024 with the
# sample roster, then `confirm` against the real 2025 choices.
# Usage: scripts/results-day.sh [out-dir]      (default target/results-day)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-target/results-day}
cargo build --release --quiet
bin=target/release/bacpredict
rm -rf "$out" && mkdir -p "$out"
# 2021-2024 as history; 2025 without its choices as the file to forecast; its choices.
awk -F, 'NR == 1 || $1 < 2025' data/sample/history.csv > "$out/history.csv"
python3 - "$out" <<'PY'
import csv, sys
out = sys.argv[1]
rows = list(csv.DictReader(open("data/sample/history.csv", newline="", encoding="utf-8")))
cols = list(rows[0].keys())
with open(f"{out}/candidates.csv", "w", newline="", encoding="utf-8") as f:
    w = csv.DictWriter(f, cols, lineterminator="\n")
    w.writeheader()
    for r in rows:
        if r["session"] == "2025":
            w.writerow({**r, "chosen": ""})
with open(f"{out}/choices.csv", "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["candidate_id", "subject"])
    for r in rows:
        if r["session"] == "2025" and r["chosen"] == "1":
            w.writerow([r["candidate_id"], r["subject"]])
PY
"$bin" train --history "$out/history.csv" --model "$out/model.json" -q >/dev/null
"$bin" forecast --model "$out/model.json" --candidates "$out/candidates.csv" \
  --roster data/sample/roster.csv --out "$out/plan" -q >/dev/null
"$bin" confirm --candidates "$out/candidates.csv" --choices "$out/choices.csv" \
  --summons "$out/plan/summons.csv" --out "$out/day"
