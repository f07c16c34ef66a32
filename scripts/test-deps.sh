#!/usr/bin/env bash
# Makes sure the programs the tests need are installed:
#   RabbitMQ  integration tests run against a private node (scripts/with-rabbitmq.sh)
#   Chromium  the client's end-to-end tests drive it headless
#   python3   with-rabbitmq.sh uses it to find free ports and probe the AMQP port
#   Node/npm  only when there is a client (client/package.json) to build and test
# Silent when everything is there. On Debian as root, installs what is missing with apt-get;
# anywhere else, says what to install and fails.
set -euo pipefail
cd "$(dirname "$0")/.."

rabbitmq_bin=${GOCHAT_RABBITMQ_BIN:-/usr/lib/rabbitmq/bin}

missing=() # Debian package names
[[ -x $rabbitmq_bin/rabbitmq-server && -x $rabbitmq_bin/rabbitmqctl ]] && command -v epmd >/dev/null ||
    missing+=(rabbitmq-server)
[[ -x /usr/bin/chromium ]] || command -v chromium >/dev/null || missing+=(chromium)
command -v python3 >/dev/null || missing+=(python3)
if [[ -f client/package.json ]]; then
    command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)
fi

((${#missing[@]} == 0)) && exit 0

if [[ $(id -u) -ne 0 || ! -f /etc/debian_version ]] || ! command -v apt-get >/dev/null; then
    echo "test-deps: missing: ${missing[*]}" >&2
    if [[ -f /etc/debian_version ]]; then
        echo "test-deps: install them with: sudo apt-get install -y ${missing[*]}" >&2
    else
        echo "test-deps: install them with your package manager (RabbitMQ's scripts are expected" \
            "in $rabbitmq_bin, or set GOCHAT_RABBITMQ_BIN; Chromium as chromium on PATH)" >&2
    fi
    exit 1
fi

echo "test-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q "${missing[@]}" </dev/null

# The package may have started the system broker on the default ports (5672, 25672). The tests
# never use it (they start their own node), so stop it and keep it from starting at boot.
# (Only when it is listening: the init script's "stop" runs rabbitmqctl, which leaves a system
# epmd daemon behind even when there was nothing to stop.)
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if [[ " ${missing[*]} " == *" rabbitmq-server "* ]]; then
    if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null; then
        systemctl disable --now rabbitmq-server >/dev/null 2>&1 || true
    else
        update-rc.d rabbitmq-server disable >/dev/null 2>&1 || true
        if listening 5672 || listening 25672; then
            service rabbitmq-server stop >/dev/null 2>&1 || true
        fi
    fi
fi
