#!/usr/bin/env bash
# docs/report.png, the README's picture of the HTML report: a `cosaudit demo` run's report,
# drawn by headless Chromium (apt-get install -y chromium), then quantised to a small PNG.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
.venv/bin/cosaudit demo --report "$work/report.html" >/dev/null
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1100,1120 \
    --screenshot="$work/report.png" "file://$work/report.html" 2>/dev/null
if command -v pngquant >/dev/null; then
    pngquant --force --quality=60-85 --output docs/report.png "$work/report.png"
else
    cp "$work/report.png" docs/report.png
fi
ls -l docs/report.png
