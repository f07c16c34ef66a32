"""`make dist`: one static, stripped binary (`gochat`) for each architecture, tarballs that unpack
to a runnable tree, and no jemalloc or OpenSSL anywhere in the binary's dependencies."""

import hashlib
import struct
import subprocess
import tarfile

import pytest
from conftest import DIST, ROOT, SERVICES, dist_bin, record, version

BINARIES = ["gochat"]  # the only GoChat executable: `gochat <service>` runs each service
# ELF e_machine values.
MACHINE = {"amd64": 62, "arm64": 183}
TRIPLE = {"amd64": "x86_64-unknown-linux-musl", "arm64": "aarch64-unknown-linux-musl"}
PT_INTERP, PT_DYNAMIC = 3, 2
SHT_SYMTAB = 2


def elf(path):
    """(e_machine, program header types, section header types) of a 64-bit little-endian ELF."""
    data = path.read_bytes()
    assert data[:4] == b"\x7fELF" and data[4] == 2 and data[5] == 1, f"{path} is not a 64-bit LE ELF"
    machine = struct.unpack_from("<H", data, 18)[0]
    phoff, shoff = struct.unpack_from("<QQ", data, 32)
    phentsize, phnum, shentsize, shnum = struct.unpack_from("<HHHH", data, 54)
    ptypes = {struct.unpack_from("<I", data, phoff + i * phentsize)[0] for i in range(phnum)}
    stypes = {struct.unpack_from("<I", data, shoff + i * shentsize + 4)[0] for i in range(shnum)}
    return machine, ptypes, stypes


@pytest.mark.parametrize("arch", ["amd64", "arm64"])
def test_binaries_are_static_stripped_and_of_their_architecture(arch):
    sizes = {}
    for name in BINARIES + ["litestream"]:
        path = dist_bin(arch, name)
        machine, ptypes, stypes = elf(path)
        assert machine == MACHINE[arch], f"{path}: e_machine {machine}"
        assert PT_INTERP not in ptypes and PT_DYNAMIC not in ptypes, f"{path} is dynamically linked"
        if name != "litestream":
            assert SHT_SYMTAB not in stypes, f"{path} is not stripped"
        sizes[name] = path.stat().st_size
    record(f"binary-sizes-{arch}", sizes)


@pytest.mark.parametrize("arch", ["amd64", "arm64"])
def test_tarball_unpacks_to_bin_client_config_and_nomad(arch):
    name = f"gochat-{version()}-linux-{arch}"
    tarball = DIST / f"{name}.tar.gz"
    digest = (DIST / f"{name}.tar.gz.sha256").read_text().split()
    assert digest == [hashlib.sha256(tarball.read_bytes()).hexdigest(), tarball.name]
    with tarfile.open(tarball) as tar:
        members = {m.name: m for m in tar.getmembers()}
    for b in BINARIES + ["litestream"]:
        m = members[f"{name}/bin/{b}"]
        assert m.mode & 0o111 and m.uid == 0, f"{b}: mode {m.mode:o} uid {m.uid}"
    for required in ["client/dist/index.html", "config/gochat.toml", "config/nginx.conf", "config/rabbitmq.conf",
                     "config/gochat.service"]:
        assert f"{name}/{required}" in members, required
    for svc in ["auth", "users", "messages", "chat", "notifications"]:
        assert f"{name}/config/{svc}.toml" in members
        assert f"{name}/config/litestream/{svc}.yml" in members
        assert f"{name}/nomad/gochat-{svc}.nomad.hcl" in members
    # The client's bundles with the precompressed copies the servers send.
    assets = [m for m in members if "/client/dist/assets/" in m and m.endswith(".js")]
    assert assets and all(f"{a}.br" in members and f"{a}.gz" in members for a in assets), assets
    record(f"tarball-size-{arch}", tarball.stat().st_size)


def test_the_amd64_binary_runs_here_and_each_service_names_gochat_itself_and_the_version():
    gochat = dist_bin("amd64", "gochat")
    out = subprocess.run([gochat, "--version"], capture_output=True, text=True, timeout=10)
    assert out.returncode == 0 and out.stdout.strip() == f"gochat {version()}", out
    for svc in SERVICES:
        out = subprocess.run([gochat, svc, "--version"], capture_output=True, text=True, timeout=10)
        assert out.returncode == 0 and out.stdout.strip() == f"gochat-{svc} {version()}", out
        usage = subprocess.run([gochat, svc, "--help"], capture_output=True, text=True, timeout=10).stdout
        assert f"Usage: gochat {svc}" in usage and "kit" not in usage, usage


def test_the_tarball_ships_no_other_gochat_executable():
    bins = {p.name for p in (DIST / "linux-amd64" / "bin").iterdir()}
    assert bins == {"gochat", "litestream"}, bins


@pytest.mark.parametrize("arch", ["amd64", "arm64"])
def test_no_jemalloc_and_no_openssl_in_the_release_dependencies(arch):
    # jemalloc crashes on the 16 KiB-page kernels of the Raspberry Pi 5; TLS is rustls.
    packages = [a for b in BINARIES for a in ("-p", b)]
    tree = subprocess.run(
        ["cargo", "tree", "--edges", "normal,build", "--prefix", "none", "--target", TRIPLE[arch], *packages],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    crates = {line.split()[0] for line in tree.splitlines() if line.strip()}
    forbidden = {c for c in crates if "jemalloc" in c or c in ("openssl", "openssl-sys", "native-tls")}
    assert not forbidden, forbidden
    assert "rustls" in crates
