#!/usr/bin/env bash
# Renders the HTML pages in headless Chromium to PNG at A4 width (794 px), to check them
# as a person sees them: the forecast's plan.html and the backtest's report.html.
# Usage: scripts/render-report.sh [out-dir]        (default out; PNGs written beside them)
# Needs Debian's chromium (apt-get install chromium); CI does not run it.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-out}
bin=target/release/bacpredict
cargo build --release --quiet
"$bin" forecast --model models/sample.json --candidates data/sample/candidates.csv \
  --roster data/sample/roster.csv --out "$out" -q >/dev/null
"$bin" backtest --history data/sample/history.csv --all --oracle data/sample/truth.csv \
  --out "$out/backtest" -q >/dev/null
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
render() {
  chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --window-size=794,"$2" --hide-scrollbars \
    --screenshot="$(realpath -m "$3")" "file://$(realpath "$1")" 2>/dev/null
  echo "wrote $3"
}
render "$out/plan.html" 2400 "$out/plan.png"
render "$out/backtest/report.html" 3200 "$out/backtest/report.png"
