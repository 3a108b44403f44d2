#!/usr/bin/env bash
# Every command's outputs, for checking that a refactor changes none of them: train,
# forecast (roster, --xlsx, --excel, whole period), backtest (--all with the oracle,
# --json), results day on the sample, then simulate, train, forecast and backtest on three
# worlds. Run it with the binary before and after the change, then `diff -r` the folders.
# The runs happen in one fixed folder (paths are printed and embedded), moved to OUT.
# Usage: scripts/outputs.sh BINARY OUT      (e.g. a copy of target/release/bacpredict)
set -euo pipefail
bin=$(realpath "$1")
final=$(realpath -m "$2")
cd "$(dirname "$0")/.."
out=$PWD/target/outputs-run
rm -rf "$out" && mkdir -p "$out"
s=data/sample
run() {
  local name=$1
  shift
  "$bin" "$@" >"$out/$name.stdout" 2>"$out/$name.stderr" || echo "exit $?" >>"$out/$name.stdout"
}
run train train --history $s/history.csv --model "$out/sample-model.json"
run train-json train --history $s/history.csv --model "$out/sample-model2.json" --json
run fc forecast --model models/sample.json --candidates $s/candidates.csv --out "$out/fc" --roster $s/roster.csv --xlsx
run fc-excel forecast --model models/sample.json --candidates $s/candidates.csv --out "$out/fc-excel" --excel --json
run fc-whole forecast --model models/sample.json --candidates $s/candidates.csv --out "$out/fc-whole" --whole-period --capacity 12
run bt backtest --history $s/history.csv --all --out "$out/bt" --oracle $s/truth.csv --xlsx
run bt-json backtest --history $s/history.csv --out "$out/bt2" --json --whole-period
# Results day on the sample (as scripts/results-day.sh), with this binary.
rd=$out/rd && mkdir -p "$rd"
awk -F, 'NR == 1 || $1 < 2025' $s/history.csv >"$rd/history.csv"
python3 - "$rd" <<'PY'
import csv, sys
out = sys.argv[1]
rows = list(csv.DictReader(open("data/sample/history.csv", newline="", encoding="utf-8")))
with open(f"{out}/candidates.csv", "w", newline="", encoding="utf-8") as f:
    w = csv.DictWriter(f, list(rows[0].keys()), lineterminator="\n")
    w.writeheader()
    w.writerows({**r, "chosen": ""} for r in rows if r["session"] == "2025")
with open(f"{out}/choices.csv", "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["candidate_id", "subject"])
    w.writerows([r["candidate_id"], r["subject"]] for r in rows if r["session"] == "2025" and r["chosen"] == "1")
PY
run rd-train train --history "$rd/history.csv" --model "$rd/model.json"
run rd-plan forecast --model "$rd/model.json" --candidates "$rd/candidates.csv" --roster $s/roster.csv --out "$rd/plan"
run rd-day confirm --candidates "$rd/candidates.csv" --choices "$rd/choices.csv" --summons "$rd/plan/summons.csv" --out "$rd/day" --xlsx
for w in rules centers trend; do
  d="$out/w-$w"
  run sim-$w simulate --out "$d" --world $w --candidates 800 --centers 10 --seed 7
  run train-$w train --history "$d/history.csv" --model "$d/model.json"
  run fc-$w forecast --model "$d/model.json" --candidates "$d/candidates.csv" --out "$d/fc" --xlsx
  run bt-$w backtest --history "$d/history.csv" --out "$d/bt" --oracle "$d/truth.csv" --whole-period --capacity 12
done
rm -rf "$final" && mv "$out" "$final"
echo "outputs in $final"
