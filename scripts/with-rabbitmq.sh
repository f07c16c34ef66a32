#!/usr/bin/env bash
# Usage: scripts/with-rabbitmq.sh CMD [ARGS...]
#
# Starts a private, throw-away RabbitMQ node, runs CMD against it, then stops the node and
# deletes everything it wrote. The system RabbitMQ (if any) is never touched: the node has its
# own name, data, logs, config, Erlang cookie, epmd and free ports, so several runs can share a
# machine.
#
# CMD sees:
#   GOCHAT_TEST_AMQP_URL        amqp://guest:guest@127.0.0.1:<port>/%2f
#   GOCHAT_TEST_AMQPS_URL       amqps://guest:guest@127.0.0.1:<port>/%2f, the same node over TLS
#                               with a certificate of a private CA (only when openssl is there)
#   GOCHAT_TEST_AMQP_CA_FILE    that CA's certificate (PEM)
#   GOCHAT_TEST_RABBITMQ_NODE   the node name, e.g. gochat-test-1a2b3c4d@localhost
#   GOCHAT_TEST_RABBITMQCTL     absolute path of a rabbitmqctl that reaches this node
#                               (e.g. `"$GOCHAT_TEST_RABBITMQCTL" -n "$GOCHAT_TEST_RABBITMQ_NODE"
#                               stop_app` / `start_app` to simulate a broker outage)
#   PATH                        starts with the directory of that rabbitmqctl (and
#                               rabbitmq-diagnostics), so plain `rabbitmqctl` works too
#
# HOME is deliberately NOT changed for CMD (cargo, rustup and npm live there); the rabbitmqctl
# wrapper sets HOME (for the Erlang cookie) and the RABBITMQ_* variables itself.
#
# Exits with CMD's status. Tunables: GOCHAT_RABBITMQ_START_TIMEOUT (seconds, default 90),
# GOCHAT_RABBITMQ_BIN (default /usr/lib/rabbitmq/bin).
set -euo pipefail

log() { echo "with-rabbitmq: $*" >&2; }
die() { log "$*"; exit 1; }

[[ $# -ge 1 ]] || die "usage: $0 CMD [ARGS...]"

# Debian's /usr/sbin/rabbitmq* wrappers `su` to the rabbitmq user when run as root (which would
# lose our HOME, cookie and temp dir). The upstream scripts in /usr/lib/rabbitmq/bin run as
# whoever calls them.
RMQ_BIN=${GOCHAT_RABBITMQ_BIN:-/usr/lib/rabbitmq/bin}
START_TIMEOUT=${GOCHAT_RABBITMQ_START_TIMEOUT:-90}
for tool in "$RMQ_BIN/rabbitmq-server" "$RMQ_BIN/rabbitmqctl"; do
    [[ -x $tool ]] || die "$tool not found; run scripts/test-deps.sh"
done
command -v epmd >/dev/null || die "epmd not found (Erlang); run scripts/test-deps.sh"
command -v python3 >/dev/null || die "python3 not found; run scripts/test-deps.sh"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gochat-rabbitmq.XXXXXX")
server_pid='' epmd_pid='' cmd_pid='' node=''

ctl() { "$tmp/bin/rabbitmqctl" "$@"; }

# Stop the node: politely first, then by force. Only ever signals processes this script started
# (the beam's pid comes from its pid file and is checked against its environment).
stop_node() {
    if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
        timeout 30 "$tmp/bin/rabbitmqctl" stop "$tmp/rabbit.pid" >/dev/null 2>&1 || true
    fi
    local beam=''
    [[ -f $tmp/rabbit.pid ]] && beam=$(<"$tmp/rabbit.pid")
    if [[ $beam =~ ^[0-9]+$ ]] && tr '\0' '\n' <"/proc/$beam/environ" 2>/dev/null |
        grep -qx "RABBITMQ_NODENAME=$node"; then
        kill -KILL "$beam" 2>/dev/null || true
    fi
    if [[ -n $server_pid ]]; then
        kill -KILL "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    if [[ -n $epmd_pid ]]; then
        kill -KILL "$epmd_pid" 2>/dev/null || true
        wait "$epmd_pid" 2>/dev/null || true
    fi
    server_pid='' epmd_pid=''
}

# A process and all its descendants (children first), e.g. cargo and the test binaries it runs.
tree() {
    local child
    for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do tree "$child"; done
    echo "$1"
}

cleanup() {
    local status=$1 i
    trap - EXIT INT TERM
    if [[ -n $cmd_pid ]] && kill -0 "$cmd_pid" 2>/dev/null; then
        # Interrupted while CMD runs: stop CMD and everything it started, by force after 10s.
        local pids
        pids=$(tree "$cmd_pid")
        kill -TERM $pids 2>/dev/null || true
        for i in {1..50}; do kill -0 $pids 2>/dev/null || break; sleep 0.2; done
        kill -KILL $pids 2>/dev/null || true
        wait "$cmd_pid" 2>/dev/null || true
    fi
    stop_node
    rm -rf "$tmp"
    exit "$status"
}
trap 'cleanup $?' EXIT
trap 'cleanup 130' INT
trap 'cleanup 143' TERM

# Four distinct ports the kernel considers free right now (AMQP, Erlang distribution, epmd, AMQPS).
free_ports() {
    python3 -c '
import socket
socks = [socket.socket() for _ in range(4)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))
'
}

# True once the port answers an AMQP 0-9-1 protocol header with a method frame (Connection.Start).
amqp_answers() {
    python3 - "$1" <<'EOF' 2>/dev/null
import socket, sys
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2) as s:
    s.sendall(b"AMQP\x00\x00\x09\x01")
    reply = s.recv(7)
sys.exit(0 if reply[:3] == b"\x01\x00\x00" else 1)
EOF
}

# One attempt to start a node. Returns 1 if it died (e.g. a port got taken meanwhile: worth a
# retry), 2 if it was not ready in time, 3 if rabbitmqctl cannot reach it.
start_node() {
    read -r amqp_port dist_port epmd_port amqps_port <<<"$(free_ports)"
    node="gochat-test-$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')@localhost"

    rm -rf "$tmp"/{home,mnesia,log,bin,conf.d} "$tmp"/rabbit.pid
    mkdir -p "$tmp"/{home,mnesia,log,bin,conf.d}
    # Erlang cookie for the node and our rabbitmqctl; Erlang insists on owner-only permissions.
    (umask 077 && od -An -N15 -tx1 /dev/urandom | tr -d ' \n' >"$tmp/home/.erlang.cookie")
    chmod 400 "$tmp/home/.erlang.cookie"
    echo '[].' >"$tmp/enabled_plugins" # no plugins: no management UI on 15672
    : >"$tmp/rabbitmq-env.conf"         # ignore /etc/rabbitmq/rabbitmq-env.conf
    cat >"$tmp/rabbitmq.conf" <<EOF
listeners.tcp.1 = 127.0.0.1:$amqp_port
loopback_users.guest = true
log.console = false
log.file.level = info
EOF
    if [[ -f $tmp/tls/server.pem ]]; then
        cat >>"$tmp/rabbitmq.conf" <<EOF
listeners.ssl.1 = 127.0.0.1:$amqps_port
ssl_options.cacertfile = $tmp/tls/ca.pem
ssl_options.certfile = $tmp/tls/server.pem
ssl_options.keyfile = $tmp/tls/server.key
ssl_options.verify = verify_none
ssl_options.fail_if_no_peer_cert = false
EOF
    fi

    # Everything the node and rabbitmqctl need, in one file both read.
    cat >"$tmp/env" <<EOF
HOME='$tmp/home'
RABBITMQ_NODENAME='$node'
RABBITMQ_USE_LONGNAME=false
RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
RABBITMQ_NODE_PORT=$amqp_port
RABBITMQ_DIST_PORT=$dist_port
ERL_EPMD_PORT=$epmd_port
RABBITMQ_CONF_ENV_FILE='$tmp/rabbitmq-env.conf'
RABBITMQ_CONFIG_FILE='$tmp/rabbitmq.conf'
RABBITMQ_CONFIG_FILES='$tmp/conf.d'
RABBITMQ_ADVANCED_CONFIG_FILE='$tmp/advanced.config'
RABBITMQ_ENABLED_PLUGINS_FILE='$tmp/enabled_plugins'
RABBITMQ_MNESIA_BASE='$tmp/mnesia'
RABBITMQ_LOG_BASE='$tmp/log'
RABBITMQ_PID_FILE='$tmp/rabbit.pid'
RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS='-kernel inet_dist_use_interface {127,0,0,1}'
RABBITMQ_CTL_DIST_PORT_MIN=0
RABBITMQ_CTL_DIST_PORT_MAX=0
ERL_CRASH_DUMP='$tmp/log/erl_crash.dump'
LC_ALL=C.UTF-8
EOF
    local tool
    for tool in rabbitmqctl rabbitmq-diagnostics; do
        printf '#!/usr/bin/env bash\nset -a\n. %q\nset +a\nexec %q "$@"\n' \
            "$tmp/env" "$RMQ_BIN/$tool" >"$tmp/bin/$tool"
        chmod +x "$tmp/bin/$tool"
    done

    # Our own epmd on its own port: a shared one would outlive us, and we must not kill it.
    epmd -address 127.0.0.1 -port "$epmd_port" </dev/null >"$tmp/log/epmd.out" 2>&1 &
    epmd_pid=$!
    (
        set -a
        . "$tmp/env"
        exec "$RMQ_BIN/rabbitmq-server"
    ) </dev/null >"$tmp/log/server.out" 2>&1 &
    server_pid=$!

    # Poll (no fixed sleep) until the AMQP port answers, the node dies, or time runs out.
    local deadline=$((SECONDS + START_TIMEOUT))
    until amqp_answers "$amqp_port"; do
        if ! kill -0 "$server_pid" 2>/dev/null; then
            log "node $node exited during startup"
            return 1
        fi
        if ((SECONDS >= deadline)); then
            log "node $node not ready after ${START_TIMEOUT}s"
            return 2
        fi
        sleep 0.2
    done
    # The port is open; also make sure rabbitmqctl can reach the node (cookie, epmd, dist port).
    ctl -q -n "$node" await_startup --timeout "$((deadline - SECONDS > 5 ? deadline - SECONDS : 5))" >/dev/null ||
        return 3
}

# A private CA and a certificate it signed for 127.0.0.1, so the node also speaks AMQPS as a
# self-hosted broker with a self-signed certificate does.
make_certificates() {
    mkdir -p "$tmp/tls" && cd "$tmp/tls" || return 1
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=GoChat test CA" \
        -keyout ca.key -out ca.pem &&
        openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout server.key -out server.csr &&
        printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n' >server.ext &&
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
            -extfile server.ext -out server.pem
}
if ! command -v openssl >/dev/null; then
    log "no TLS listener: openssl is not installed"
elif ! (make_certificates) >"$tmp/tls.log" 2>&1; then
    log "no TLS listener: openssl failed:"
    cat "$tmp/tls.log" >&2
    rm -rf "${tmp:?}/tls"
fi

started=${EPOCHREALTIME/./}
attempt=1
while :; do
    rc=0
    start_node || rc=$?
    ((rc == 0)) && break
    log "--- last lines of the node's output and log ---"
    tail -n 30 "$tmp/log/server.out" "$tmp/log/${node}.log" >&2 2>/dev/null || true
    stop_node
    ((rc == 1 && attempt++ < 3)) || die "could not start RabbitMQ"
    log "retrying with other ports"
done
ms=$(((${EPOCHREALTIME/./} - started) / 1000))
log "$node ready on 127.0.0.1:$amqp_port after $((ms / 1000)).$((ms % 1000 / 100))s"

export GOCHAT_TEST_AMQP_URL="amqp://guest:guest@127.0.0.1:$amqp_port/%2f"
if [[ -f $tmp/tls/server.pem ]]; then
    export GOCHAT_TEST_AMQPS_URL="amqps://guest:guest@127.0.0.1:$amqps_port/%2f"
    export GOCHAT_TEST_AMQP_CA_FILE=$tmp/tls/ca.pem
fi
export GOCHAT_TEST_RABBITMQ_NODE=$node
export GOCHAT_TEST_RABBITMQCTL=$tmp/bin/rabbitmqctl
export PATH=$tmp/bin:$PATH

# Run CMD in the background and wait, so a signal to this script is handled at once (and passed
# on to CMD) instead of after CMD finishes. Background jobs would get /dev/null as stdin and
# ignore SIGINT/SIGQUIT; undo both so CMD (and whatever it spawns) behaves as in the foreground.
env --default-signal=INT,QUIT "$@" <&0 &
cmd_pid=$!
status=0
wait "$cmd_pid" || status=$?
cmd_pid=''
exit "$status"
