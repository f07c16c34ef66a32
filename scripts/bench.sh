#!/usr/bin/env bash
# Usage: scripts/bench.sh   (what `make bench` runs)
#
# Measures GoChat with its load generator (services/load, `gochat-load`), release builds on
# loopback, and prints one table with the project's targets beside the figures:
#   1. `gochat serve` on its in-process bus, fresh data directory: sign-ins, seq, bursts
#      (32 and 1 in flight), fan-out to 5,000 sockets, 19,000 idle sockets;
#   2. `gochat serve` on a data directory holding 1,000,000 messages: history pages and
#      search. The directory (target/bench-data/messages-1m) is seeded once through WebSocket
#      sends and reused by later runs; BENCH_RESEED=1 starts it over;
#   3. the five services as separate processes (`gochat <service>`) over a private RabbitMQ
#      (scripts/bench-services.sh under scripts/with-rabbitmq.sh): the scenarios of 1.
# Each run's JSON document is kept in target/bench/, the table in target/bench/table.md.
# Numbers, never assertions: the load generator shares the machine's cores with the servers.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-lib.sh

export BENCH_OUT=$PWD/target/bench
export LOAD=$PWD/target/release/gochat-load
SEEDED=target/bench-data/messages-1m

log "building release binaries"
cargo build --release -p gochat -p gochat-load
rm -rf "$BENCH_OUT"
mkdir -p "$BENCH_OUT"
raise_file_limit
unset GOCHAT_AMQP_URL # `gochat serve` on its in-process bus
run_dir=$(mktemp -d "${TMPDIR:-/tmp}/gochat-bench.XXXXXX")
trap 'stop_all; rm -rf "$run_dir"' EXIT

serve() {
    local data=$1 port=$2
    GOCHAT_LISTEN=127.0.0.1:$port GOCHAT_DATA_DIR=$data GOCHAT_CLIENT_DIR=$run_dir/no-client \
        GOCHAT_LOG=error start "$run_dir/serve-$port.log" serve
}

# 1. All in one, fresh.
port=$(free_port)
serve "$run_dir/serve" "$port"
fresh_deployment_scenarios "gochat serve" in-process --url "http://127.0.0.1:$port"
stop_all

# 2. All in one, a million stored messages.
if [[ ${BENCH_RESEED:-} == 1 ]]; then rm -rf "$SEEDED"; fi
mkdir -p "$SEEDED"
# History and search measure the server, not the disk: the messages database and the search
# index stay in the kernel's page cache, as a serving server's working set does (keep_cached).
port=$(free_port)
serve "$PWD/$SEEDED" "$port"
keep_cached "$SEEDED"/messages.db "$SEEDED"/messages-search.db
wait_search_indexed "$port"
load history "gochat serve" in-process --url "http://127.0.0.1:$port" history
wait_search_indexed "$port"
load search "gochat serve" in-process --url "http://127.0.0.1:$port" search
stop_all

# 3. Five services over RabbitMQ.
scripts/with-rabbitmq.sh scripts/bench-services.sh

"$LOAD" report --out "$BENCH_OUT/table.md" \
    "$BENCH_OUT"/gochat-serve-*.json "$BENCH_OUT"/5-services-over-RabbitMQ-*.json
