#!/bin/sh
# Looks at an HTML report as a person would: a screenshot by headless
# Chromium (Debian: apt-get install chromium). Not part of make check.
#   tools/html-screenshot.sh REPORT.html OUT.png [WIDTH,HEIGHT]
set -eu
[ $# -ge 2 ] || { echo "usage: $0 REPORT.html OUT.png [WIDTH,HEIGHT]" >&2; exit 2; }
html=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
exec chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --screenshot="$2" \
	--window-size="${3:-1200,1600}" "file://$html" 2>/dev/null
