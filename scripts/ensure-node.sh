#!/usr/bin/env bash
# Make sure Node.js and npm exist for the real-CLI end-to-end tests (pytest -m clis), which
# install pinned Claude Code / Codex / Gemini CLI packages from the npm registry.
# When they are missing and we are root on a Debian/Ubuntu machine, apt-get installs them;
# otherwise this says what is missing.  It never fails the build: without npm those tests
# skip and print why.  (Debian 12's nodejs is 18: Gemini CLI needs 20, so that one test skips.)
set -u
if command -v npm >/dev/null 2>&1 && command -v node >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-node: node/npm missing and apt-get unavailable (not root?): the real-CLI tests will skip" >&2
    exit 0
fi
echo "== apt-get install nodejs npm (for the real-CLI tests)"
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null; }; then
    echo "ensure-node: apt-get could not install nodejs/npm: the real-CLI tests will skip" >&2
fi
exit 0
