#!/usr/bin/env bash
# Make sure a tool some tests need exists, installing Debian's package when it is missing.
#
#   scripts/ensure-apt.sh "<what needs it>" <command> [<command> ...] -- <package> [...]
#
# When every command is on PATH it does nothing.  Otherwise, as root on a Debian/Ubuntu
# machine, apt-get installs the packages.  It never fails the build: the tests that need
# the tool say what is missing (and skip, or fail under CI, as each decides).
set -u
purpose="$1"; shift
commands=(); while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do commands+=("$1"); shift; done
shift  # --
missing=""
for c in "${commands[@]}"; do command -v "$c" >/dev/null 2>&1 || missing="$missing $c"; done
[ -z "$missing" ] && exit 0
[ "$#" -gt 0 ] || { echo "ensure-apt:$missing missing: $purpose" >&2; exit 0; }
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-apt:$missing missing and apt-get unavailable (not root?): $purpose" >&2
    exit 0
fi
echo "== apt-get install $* ($purpose)"
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "$@" >/dev/null; }; then
    echo "ensure-apt: apt-get could not install $*: $purpose" >&2
fi
exit 0
