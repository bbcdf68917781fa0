#!/usr/bin/env bash
# A throwaway local PostgreSQL server for tests and CI.
#
#   scripts/postgres.sh [start]   start one (installing PostgreSQL with apt-get if needed);
#                                 the last line on stdout is its URL
#   scripts/postgres.sh url       print the URL of the running server
#   scripts/postgres.sh stop      stop it and delete its data
#
# The server listens on 127.0.0.1:$PGPORT (default 55432) with trust authentication,
# keeps its data and unix socket in a temporary directory, and runs without fsync:
# it is for tests only. Its state (data dir, user, bin dir) is kept in
# /tmp/tmfstack-postgres-$PGPORT.state. Everything but the URL goes to stderr.
set -euo pipefail

PORT="${PGPORT:-55432}"
STATE="/tmp/tmfstack-postgres-${PORT}.state"
URL="postgresql://postgres@127.0.0.1:${PORT}/postgres"

log() { echo "postgres.sh: $*" >&2; }

find_bin() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [[ -n "$dir" && -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then
        echo "$dir"
    fi
}

# run a command as the server's (non-root) user
as_user() {
    local user="$1"
    shift
    if [[ "$(id -un)" == "$user" ]]; then
        "$@"
    elif command -v runuser >/dev/null; then
        runuser -u "$user" -- "$@"
    else
        su -s /bin/sh "$user" -c "$(printf '%q ' "$@")"
    fi
}

load_state() {
    [[ -f "$STATE" ]] || return 1
    # shellcheck disable=SC1090
    source "$STATE"
    [[ -n "${DIR:-}" && -n "${RUN_AS:-}" && -n "${BIN:-}" ]]
}

running() {
    load_state && [[ -d "$DIR/data" ]] && as_user "$RUN_AS" "$BIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1
}

stop() {
    if ! load_state; then
        log "no server recorded in $STATE"
        return 0
    fi
    if [[ -d "$DIR/data" ]]; then
        as_user "$RUN_AS" "$BIN/pg_ctl" -D "$DIR/data" -m immediate -w stop >&2 || true
    fi
    case "$DIR" in
    /tmp/tmfstack-pg.*) rm -rf "$DIR" ;;
    esac
    rm -f "$STATE"
    log "stopped"
}

start() {
    if running; then
        log "already running (data in $DIR)"
        echo "$URL"
        return 0
    fi
    [[ -f "$STATE" ]] && stop

    local bin
    bin=$(find_bin)
    if [[ -z "$bin" ]]; then
        if [[ "$(id -u)" != 0 ]]; then
            log "no PostgreSQL server under /usr/lib/postgresql/*/bin; install the 'postgresql' package"
            exit 1
        fi
        log "installing PostgreSQL (apt-get)"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >&2
        apt-get install -y -qq postgresql >&2
        bin=$(find_bin)
        [[ -n "$bin" ]] || { log "PostgreSQL installed but no server binaries found"; exit 1; }
    fi

    # the server refuses to run as root
    local user
    user=$(id -un)
    if [[ "$(id -u)" == 0 ]]; then
        user=postgres
        if ! id "$user" >/dev/null 2>&1; then
            useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
        fi
    fi

    local dir
    dir=$(mktemp -d /tmp/tmfstack-pg.XXXXXX)
    chmod 755 "$dir"
    chown "$user" "$dir"
    printf 'DIR=%q\nRUN_AS=%q\nBIN=%q\n' "$dir" "$user" "$bin" >"$STATE"

    log "initdb in $dir/data (PostgreSQL $("$bin/pg_ctl" --version | awk '{print $3}'), user $user)"
    # cd: the server user may not be able to read the caller's working directory
    (cd "$dir" && as_user "$user" "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
        >"$dir/initdb.log" 2>&1) || {
        cat "$dir/initdb.log" >&2
        exit 1
    }
    cat >>"$dir/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$dir'
max_connections = 200
shared_buffers = 128MB
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
    if ! (cd "$dir" && as_user "$user" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >&2); then
        log "server did not start; its log:"
        cat "$dir/server.log" >&2 || true
        exit 1
    fi
    log "running on port $PORT (log: $dir/server.log; stop with: $0 stop)"
    echo "$URL"
}

case "${1:-start}" in
start) start ;;
stop) stop ;;
url)
    if running; then echo "$URL"; else
        log "not running"
        exit 1
    fi
    ;;
*)
    echo "usage: $0 [start|stop|url]" >&2
    exit 2
    ;;
esac
