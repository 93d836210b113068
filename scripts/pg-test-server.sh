#!/usr/bin/env bash
# Throwaway PostgreSQL server for the test suite.
#
#   scripts/pg-test-server.sh start|stop|restart|status|destroy|url
#
# The cluster lives in <repo>/.pgdata (git-ignored), listens only on
# 127.0.0.1:${PGTEST_PORT:-54329} with trust auth, and runs with fsync=off:
# it holds nothing worth keeping. PostgreSQL is installed from Debian's
# packages when no server binaries are found, so a fresh CI machine works.
#
# Environment:
#   PGTEST_PORT   TCP port (default 54329); give each work tree its own.
#   PGTEST_DIR    cluster directory (default <repo>/.pgdata).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PORT="${PGTEST_PORT:-54329}"
BASE="${PGTEST_DIR:-$ROOT/.pgdata}"
PGUSER_NAME=postgres   # superuser role created by initdb (not the OS user)

say() { echo "pg-test-server: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

url() { echo "postgresql+psycopg://${PGUSER_NAME}@127.0.0.1:${PORT}/postgres"; }

# --- locating / installing the server binaries ------------------------------

find_bindir() {
    # Prefer the newest Debian-packaged version; fall back to PATH.
    local d
    while read -r d; do
        if [[ -x "$d/initdb" && -x "$d/pg_ctl" && -x "$d/postgres" ]]; then
            echo "$d"; return 0
        fi
    done < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V -r)
    if command -v pg_ctl >/dev/null && command -v initdb >/dev/null; then
        dirname "$(readlink -f "$(command -v pg_ctl)")"; return 0
    fi
    return 1
}

ensure_binaries() {
    if BINDIR="$(find_bindir)"; then return 0; fi
    say "no PostgreSQL server binaries found; installing Debian's postgresql package"
    [[ "$(id -u)" == 0 ]] || die "not root: install PostgreSQL yourself (apt-get install postgresql)"
    command -v apt-get >/dev/null || die "apt-get not available: install PostgreSQL yourself"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # The package's own cluster/service is irrelevant (policy-rc.d usually
    # blocks it in containers anyway); we only want the binaries.
    apt-get install -y -qq --no-install-recommends postgresql >/dev/null
    BINDIR="$(find_bindir)" || die "postgresql installed but no binaries under /usr/lib/postgresql/*/bin"
}

# --- running things as an unprivileged user ---------------------------------

# initdb and postgres refuse to run as root, so as root everything runs as the
# `postgres` OS user (the Debian package creates it; we create it if missing).
# As a normal user we simply run as ourselves.
ensure_run_user() {
    if [[ "$(id -u)" != 0 ]]; then RUN_AS=(); OWNER="$(id -un)"; return; fi
    if ! id postgres >/dev/null 2>&1; then
        say "creating OS user 'postgres'"
        useradd --system --user-group --no-create-home --shell /usr/sbin/nologin postgres
    fi
    RUN_AS=(runuser -u postgres --)
    OWNER=postgres
}

as_pg() { "${RUN_AS[@]}" "$@"; }

# The cluster dir must be reachable by the postgres user. A checkout under a
# private directory (e.g. /root, mode 700) is not, so then .pgdata becomes a
# symlink to a directory under /tmp.
prepare_base() {
    if [[ ! -e "$BASE" ]]; then mkdir -p "$BASE"; fi
    if [[ "$(id -u)" == 0 ]] && ! as_pg test -x "$(readlink -f "$BASE")"; then
        [[ -L "$BASE" || -z "$(ls -A "$BASE")" ]] \
            || die "$BASE is not reachable by user postgres and not empty; remove it"
        local tmp
        tmp="$(mktemp -d "${TMPDIR:-/tmp}/otelspend-pgtest.XXXXXX")"
        chmod 755 "$tmp"
        say "$BASE is not reachable by user postgres; using $tmp instead"
        rm -rf "$BASE"
        ln -s "$tmp" "$BASE"
    fi
    BASE="$(readlink -f "$BASE")"
    DATA="$BASE/data"
    SOCK="$BASE/sock"
    LOG="$BASE/postgres.log"
    mkdir -p "$SOCK"
    touch "$LOG"
    chown "$OWNER" "$SOCK" "$LOG"
    chmod 755 "$SOCK"
}

# --- cluster lifecycle -------------------------------------------------------

init_cluster() {
    [[ -f "$DATA/PG_VERSION" ]] && return 0
    say "initialising cluster in $DATA"
    rm -rf "$DATA"
    mkdir -p "$DATA"
    chown "$OWNER" "$DATA"
    chmod 700 "$DATA"
    as_pg "$BINDIR/initdb" -D "$DATA" -U "$PGUSER_NAME" --auth=trust \
        --encoding=UTF8 --no-locale --no-sync >/dev/null
    # Loopback-only trust auth: a test server, never reachable from outside.
    cat >"$DATA/pg_hba.conf" <<'EOF'
local all all              trust
host  all all 127.0.0.1/32 trust
EOF
    echo "include_if_exists = 'otelspend-test.conf'" >>"$DATA/postgresql.conf"
    chown "$OWNER" "$DATA/pg_hba.conf"
}

# Rewritten on every start, so a changed PGTEST_PORT takes effect.
write_settings() {
    local sockdir="$SOCK"
    # A unix socket path is limited to ~107 bytes; deep checkouts would make
    # postgres refuse to start. Tests use TCP, so just go without the socket.
    if (( ${#sockdir} + 20 > 100 )); then sockdir=""; fi
    cat >"$DATA/otelspend-test.conf" <<EOF
# written by scripts/pg-test-server.sh on each start
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$sockdir'
# throwaway data: trade durability for speed
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
EOF
    chown "$OWNER" "$DATA/otelspend-test.conf"
}

# Our server is up iff postmaster.pid names a live postgres process that is
# serving this data dir. Anything else with a pid file is stale.
server_pid() {
    local pidfile="$DATA/postmaster.pid" pid
    [[ -f "$pidfile" ]] || return 1
    pid="$(head -n1 "$pidfile")"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    [[ -r "/proc/$pid/cmdline" ]] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$DATA" || return 1
    echo "$pid"
}

running_port() {
    # Port the running server actually listens on (line 4 of postmaster.pid).
    sed -n 4p "$DATA/postmaster.pid" 2>/dev/null
}

wait_ready() {
    local _
    for _ in $(seq 1 60); do
        if "$BINDIR/pg_isready" -q -h 127.0.0.1 -p "$PORT" -U "$PGUSER_NAME"; then return 0; fi
        sleep 0.5
    done
    return 1
}

cmd_start() {
    ensure_binaries
    ensure_run_user
    prepare_base
    init_cluster
    if server_pid >/dev/null; then
        if [[ "$(running_port)" == "$PORT" ]]; then
            wait_ready || die "server in $DATA is running but not accepting connections; see $LOG"
            say "already running on 127.0.0.1:$PORT (pid $(server_pid))"
            return 0
        fi
        say "running on port $(running_port), wanted $PORT: restarting"
        as_pg "$BINDIR/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null
    fi
    # Left behind by a crash or a machine restart. postgres refuses to start
    # while they name a pid that is alive again (reused), so clear them; the
    # socket dir belongs to this cluster alone.
    if [[ -f "$DATA/postmaster.pid" ]] || compgen -G "$SOCK/.s.PGSQL.*" >/dev/null; then
        say "removing stale postmaster.pid / socket lock files (server is not running)"
        rm -f "$DATA/postmaster.pid" "$SOCK"/.s.PGSQL.*
    fi
    if "$BINDIR/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then
        die "another server already listens on 127.0.0.1:$PORT; set PGTEST_PORT to a free port"
    fi
    write_settings
    say "starting PostgreSQL $("$BINDIR/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT (log: $LOG)"
    local logsize
    logsize="$(stat -c %s "$LOG")"
    if ! as_pg "$BINDIR/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start >/dev/null; then
        say "start failed; server log of this attempt:"
        tail -c +"$((logsize + 1))" "$LOG" >&2 || true
        exit 1
    fi
    wait_ready || die "server started but is not accepting connections; see $LOG"
    say "ready: $(url)"
}

cmd_stop() {
    # Stopping needs no install; without binaries there is nothing to stop.
    BINDIR="$(find_bindir)" || { say "no PostgreSQL binaries; nothing to stop"; return 0; }
    ensure_run_user
    if [[ ! -d "$BASE" ]]; then say "no cluster at $BASE; nothing to stop"; return 0; fi
    BASE="$(readlink -f "$BASE")"
    DATA="$BASE/data"
    if server_pid >/dev/null; then
        say "stopping server in $DATA"
        as_pg "$BINDIR/pg_ctl" -D "$DATA" -m fast -w -t 60 stop >/dev/null
        say "stopped"
    else
        say "not running"
    fi
}

cmd_status() {
    BINDIR="$(find_bindir)" || { say "no PostgreSQL binaries"; return 1; }
    DATA="$(readlink -f "$BASE")/data"
    if pid="$(server_pid)"; then
        say "running (pid $pid) on 127.0.0.1:$(running_port)"
    else
        say "not running"; return 1
    fi
}

# Stop, then delete the cluster (and the /tmp directory a symlink points to).
cmd_destroy() {
    cmd_stop
    if [[ -L "$BASE" ]]; then rm -rf "$(readlink -f "$BASE")"; fi
    rm -rf "$BASE"
    say "removed $BASE"
}

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    restart) cmd_stop; cmd_start ;;
    status) cmd_status ;;
    destroy) cmd_destroy ;;
    url) url ;;
    *) echo "usage: $0 start|stop|restart|status|destroy|url" >&2; exit 2 ;;
esac
