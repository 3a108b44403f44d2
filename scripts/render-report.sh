#!/usr/bin/env bash
# Renders a backtest report in headless Chromium to a PNG, to check it as a person sees it.
# Usage: scripts/render-report.sh [report.html] [out.png]
# Needs Debian's chromium (apt-get install chromium); CI does not run it.
set -euo pipefail
cd "$(dirname "$0")/.."
report=${1:-out/backtest/report.html}
png=${2:-out/backtest/report.png}
if [[ ! -f $report ]]; then
  cargo run --release --quiet -- backtest --history data/sample/history.csv --all \
    --oracle data/sample/truth.csv --out "$(dirname "$report")" -q >/dev/null
fi
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --window-size=1000,3000 \
  --screenshot="$(realpath -m "$png")" "file://$(realpath "$report")" 2>/dev/null
echo "wrote $png"
