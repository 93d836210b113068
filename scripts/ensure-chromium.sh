#!/usr/bin/env bash
# Make sure headless Chromium is installed (Debian's `chromium` package) and print its path.
#
#   scripts/ensure-chromium.sh
#
# The browser test of the UI (tests/ui/test_browser.py) calls this once per session.
# Installs with apt-get only when no chromium binary is found, so it costs nothing after
# the first run; needs root (or an already installed chromium).
set -euo pipefail

say() { echo "ensure-chromium: $*" >&2; }

find_chromium() {
    local c
    for c in "${CHROMIUM:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
        if [[ -n "$c" && -x "$c" ]]; then echo "$c"; return 0; fi
    done
    command -v chromium 2>/dev/null || command -v chromium-browser 2>/dev/null || return 1
}

if path="$(find_chromium)"; then
    echo "$path"; exit 0
fi
if [[ "$(id -u)" != 0 ]]; then
    say "chromium is not installed and this is not root: run 'sudo apt-get install chromium'"
    exit 1
fi
say "installing Debian's chromium package (first run only)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >&2
find_chromium
