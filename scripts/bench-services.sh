#!/usr/bin/env bash
# Usage: scripts/with-rabbitmq.sh scripts/bench-services.sh   (run by scripts/bench.sh)
#
# The five services as separate processes (`gochat <service>`, each with its own port and data
# directory, one session key) over the RabbitMQ node with-rabbitmq.sh started, measured with
# the scenarios of a fresh deployment. The load generator is given each service's URL (cookies
# on 127.0.0.1 are shared across ports, as a browser shares them) and the broker's, so its CPU
# time is reported apart.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-lib.sh

: "${GOCHAT_TEST_AMQP_URL:?run under scripts/with-rabbitmq.sh}"
: "${BENCH_OUT:?run by scripts/bench.sh}" "${LOAD:?run by scripts/bench.sh}"
raise_file_limit
run_dir=$(mktemp -d "${TMPDIR:-/tmp}/gochat-bench-services.XXXXXX")
trap 'stop_all; rm -rf "$run_dir"' EXIT

export GOCHAT_AMQP_URL=$GOCHAT_TEST_AMQP_URL
GOCHAT_JWT_KEY=$(head -c 48 /dev/urandom | base64 -w0)
export GOCHAT_JWT_KEY GOCHAT_LOG=error
urls=()
for service in auth users messages chat notifications; do
    port=$(free_port)
    GOCHAT_LISTEN=127.0.0.1:$port GOCHAT_DATA_DIR=$run_dir/$service start "$run_dir/$service.log" "$service"
    urls+=(--"$service"-url "http://127.0.0.1:$port")
done

fresh_deployment_scenarios "5 services over RabbitMQ" rabbitmq "${urls[@]}" --broker-url "$GOCHAT_TEST_AMQP_URL"
