# Shared by scripts/bench.sh and scripts/bench-services.sh (sourced, not run): starting and
# stopping GoChat processes, and the scenarios every deployment runs.
#
# Expects BENCH_OUT (directory of the JSON documents) and LOAD (the gochat-load binary).

GOCHAT=${GOCHAT:-target/release/gochat}
# The load generator signs up thousands of users from one address, which the sign-up limit
# (10 a minute per address by default) exists to refuse.
export GOCHAT_SIGNUP_PER_MINUTE=1000000
# The fan-out and idle scenarios open thousands of sockets as a few users; a real user may hold
# 32 on one instance.
export GOCHAT_CHAT_SOCKETS_PER_USER=20000
# By default a server accepts three quarters of its file limit in connections (15,000 of 20,000);
# the idle scenario holds 19,000 sockets.
export GOCHAT_MAX_CONNECTIONS=19500
# One pair of users in seq sends 3,000-4,000 frames a second: past the per-user budget (1,000 a
# second and as many in a burst) every frame would wait for the limiter's next token, about
# 1.3 ms, and seq would measure the limiter instead of the message path. Nobody types that fast.
export GOCHAT_CHAT_FRAMES_PER_SECOND=1000000
bench_pids=()

log() { echo "bench: $*" >&2; }
die() { log "$*"; exit 1; }

# A TCP port the kernel considers free right now.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The server must hold 19,000 idle sockets: raise this shell's (and so its children's) file
# limit to 20,000, or to the hard limit when that is lower.
raise_file_limit() {
    local hard
    hard=$(ulimit -Hn)
    if [[ $hard == unlimited || $hard -ge 20000 ]]; then
        ulimit -n 20000
    else
        ulimit -n "$hard"
        log "the hard file limit is $hard: fewer than 19,000 sockets will fit in one server"
    fi
}

# Starts `$GOCHAT ARGS...` in the background with the environment already exported, logging
# to FILE; its pid is remembered so that stop_all stops it.
start() {
    local logfile=$1
    shift
    "$GOCHAT" "$@" >"$logfile" 2>&1 &
    bench_pids+=($!)
}

# SIGTERM to every process started here, then wait for each (they drain, then exit).
stop_all() {
    local pid
    for pid in "${bench_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${bench_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    bench_pids=()
}

# Keeps FILES (those that exist) in the kernel's page cache until stop_all, as a serving
# server's working set is: a helper process maps each one and reads every page once. Reading
# them (`cat`) is not enough on this machine: its kernel pages out file pages that no process
# maps within seconds of their last use (DAMON's `pageout` scheme for unmapped pages), and a
# page of history read from the virtual disk measured 500-600 µs instead of about 240 µs.
# Mapped pages are left alone.
keep_cached() {
    python3 - "$@" <<'PY' &
import mmap, os, signal, sys
held = []
for path in filter(os.path.exists, sys.argv[1:]):
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size:
            held.append(mmap.mmap(f.fileno(), size, prot=mmap.PROT_READ))
for m in held:
    sum(m[i] for i in range(0, len(m), mmap.PAGESIZE))
signal.pause()
PY
    bench_pids+=($!)
}

# Waits until the server at PORT has indexed every message for search (a migration that
# rebuilds the index queues them all), so that searches are measured against the index itself.
wait_search_indexed() {
    local port=$1
    python3 - "$port" <<'PY' || die "the search index of the server on port $port is still being built"
import re, sys, time, urllib.request
url = f"http://127.0.0.1:{sys.argv[1]}/metrics"
for _ in range(1200):
    try:
        text = urllib.request.urlopen(url, timeout=5).read().decode()
        left = re.search(r'^gochat_search_backlog\{[^}]*\} (\S+)$', text, re.M)
        if left and float(left.group(1)) == 0:
            sys.exit(0)
    except OSError:
        pass
    time.sleep(0.5)
sys.exit(1)
PY
}

# Runs one scenario: load NAME LABEL BUS [gochat-load options and scenario arguments...].
# Its JSON document goes to $BENCH_OUT/<label>-<name>.json.
load() {
    local name=$1 label=$2 bus=$3
    shift 3
    local file="$BENCH_OUT/${label// /-}-$name.json"
    log "$label: $name"
    "$LOAD" --label "$label" --bus "$bus" --wait-ready 60 --json "$file" "$@"
}

# The scenarios every fresh deployment runs, in this order: sign-ins first (their argon2
# memory is part of what the server keeps), then messages, fan-out, and the idle sockets last
# (the server takes a while to let go of 19,000 sockets). seq runs twice: as the web client
# (receivers answer `delivered`), and as a bare client that does not, which shows what the
# receipts traffic costs a quiet chat; then the floor under its latencies (roundtrip: an empty
# request and a socket's ping).
fresh_deployment_scenarios() {
    local label=$1 bus=$2
    shift 2
    load signin "$label" "$bus" "$@" signin
    load seq "$label" "$bus" "$@" seq
    load seq-no-delivered "$label" "$bus" "$@" seq --delivered none
    load roundtrip "$label" "$bus" "$@" roundtrip
    load burst "$label" "$bus" "$@" burst
    load fanout "$label" "$bus" "$@" fanout
    load idle "$label" "$bus" "$@" idle --chat 19000
}
