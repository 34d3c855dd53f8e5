# Throwaway PostgreSQL clusters for incmodel's scripts: the tests (test/reliability,
# test/redshift), the benchmarks (bench/) and the demo (demo/run) all start theirs through this
# file, so that they find the same binaries and start, configure and stop clusters the same way.
#
#   source "$repo/test/lib/cluster.sh"
#
# Binaries: $PGBIN when set, else `$PG_CONFIG --bindir` (PG_CONFIG defaults to the pg_config on
# the PATH), so a private PostgreSQL copy is used by exporting PG_CONFIG or PGBIN.
# PostgreSQL refuses to run as root: started as root, the server commands run as the `postgres`
# account (CLUSTER_OS_USER). A cluster lives in one directory DIR: its data in DIR/data, its log
# in DIR/server.log, its Unix socket in DIR itself; it listens on no TCP address
# (listen_addresses = ''), and its port is the first free one from CLUSTER_PORT_BASE (5500).
#
#   cluster_dir NAME                 a new empty directory /tmp/incmodel-NAME.XXXXXX for a cluster
#   cluster_init DIR [CONF...]       initdb DIR/data; socket-only settings and the CONF lines
#   cluster_conf DIR CONF...         appends CONF lines to DIR/data/postgresql.conf
#   cluster_start DIR                starts it and waits until it accepts connections
#   cluster_stop DIR [MODE]          stops it if it runs (MODE: fast, the default, or immediate)
#   cluster_port DIR                 its port
#   cluster_psql DIR [ARG...]        psql -X connected to its postgres database as postgres
#   as_server CMD [ARG...]           runs CMD as the server's OS user
#   rerun_as_server "$@"             re-runs the calling script as the server's OS user (as root)
#   free_port [FROM]                 the first port from FROM that no server listens on

# The server binaries, from the environment: PGBIN, else PG_CONFIG's (or the PATH's pg_config's)
# bindir. Never a fixed path, so a build against another PostgreSQL tests that one.
if [ -z "${PGBIN:-}" ]; then
    PGBIN=$("${PG_CONFIG:-pg_config}" --bindir 2>/dev/null) || {
        echo "cluster.sh: no pg_config (set PG_CONFIG or PGBIN)" >&2
        return 1 2>/dev/null || exit 1
    }
fi
export PGBIN
CLUSTER_OS_USER=${CLUSTER_OS_USER:-postgres}
CLUSTER_PORT_BASE=${CLUSTER_PORT_BASE:-5500}

# True when this shell must hand server commands to CLUSTER_OS_USER (PostgreSQL refuses root).
cluster_needs_su() { [ "$(id -u)" = 0 ]; }

# Runs one command (program and arguments, not a shell string) as the server's OS user: the
# arguments are quoted for `su -c`, and su keeps the environment (PATH, PGBIN, ...).
as_server() {
    if cluster_needs_su; then
        su "$CLUSTER_OS_USER" -s /bin/bash -c "$(printf '%q ' "$@")"
    else
        "$@"
    fi
}

# For scripts that do everything as the server's user (the reliability tests): started as root,
# replaces the current process with the same script and arguments run as that user.
rerun_as_server() {
    if cluster_needs_su; then
        exec su "$CLUSTER_OS_USER" -s /bin/bash -c "$(printf '%q ' bash "$0" "$@")"
    fi
}

# Clusters listen only on their own socket directory, but a port is still part of the socket's
# name and of any TCP client's view: skip those with a listener on the loopback address or a
# socket in /tmp (another cluster on the machine), so that two scripts never pick the same one.
free_port() {
    local port=${1:-$CLUSTER_PORT_BASE}
    while [ "$port" -lt 65535 ]; do
        if [ ! -e "/tmp/.s.PGSQL.$port" ] &&
            ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
        port=$((port + 1))
    done
    echo "free_port: no free port from ${1:-$CLUSTER_PORT_BASE}" >&2
    return 1
}

# A fresh directory for one cluster, readable by everyone (clients connect to its socket) and
# owned by the server's user (initdb and the server write in it).
cluster_dir() {
    local dir
    dir=$(mktemp -d "/tmp/incmodel-$1.XXXXXX")
    chmod 755 "$dir"
    if cluster_needs_su; then chown "$CLUSTER_OS_USER:" "$dir"; fi
    echo "$dir"
}

# Appends settings to the cluster's postgresql.conf, one argument a line.
cluster_conf() {
    local dir=$1
    shift
    printf '%s\n' "$@" >>"$dir/data/postgresql.conf"
}

# initdb with the settings every script wants (superuser postgres, trust, UTF8, no locale), then
# the socket-only connection settings on a free port and the caller's lines. The port is kept in
# DIR/port for cluster_port. initdb's output goes to DIR/initdb.log, shown when it fails.
cluster_init() {
    local dir=$1
    shift
    local port
    port=$(free_port "${CLUSTER_PORT:-$CLUSTER_PORT_BASE}") || return 1
    if ! as_server "$PGBIN/initdb" -D "$dir/data" -U postgres -A trust --no-locale -E UTF8 \
        >"$dir/initdb.log" 2>&1; then
        cat "$dir/initdb.log" >&2
        return 1
    fi
    echo "$port" >"$dir/port"
    cluster_conf "$dir" "listen_addresses = ''" "unix_socket_directories = '$dir'" "port = $port" "$@"
}

# The port cluster_init picked.
cluster_port() { cat "$1/port"; }

# Starts the server (log in DIR/server.log) and waits up to a minute for it to accept
# connections; on failure the end of the log says why.
cluster_start() {
    local dir=$1
    if ! as_server "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null; then
        echo "cluster_start: the server in $dir did not start; end of its log:" >&2
        tail -n 30 "$dir/server.log" >&2
        return 1
    fi
}

# Stops the server if it runs; safe in an EXIT trap, whatever state the cluster is in.
cluster_stop() {
    local dir=$1 mode=${2:-fast}
    if [ -f "$dir/data/postmaster.pid" ]; then
        as_server "$PGBIN/pg_ctl" -D "$dir/data" -m "$mode" -w stop >/dev/null 2>&1 || true
    fi
}

# psql without a .psqlrc, connected to the cluster's socket as postgres (database postgres
# unless the arguments name another with -d).
cluster_psql() {
    local dir=$1
    shift
    "$PGBIN/psql" -X -h "$dir" -p "$(cluster_port "$dir")" -U postgres -d postgres "$@"
}
