"""The aarch64 all-in-one binary (what a Raspberry Pi runs) under qemu-aarch64: it starts, two
people sign up and exchange a message over /ws/chat, it serves the client, and it stops cleanly
on SIGTERM."""

import platform
import shutil

import pytest
from conftest import DIST, FAST_ARGON2, Http, chat_scenario, dist_bin, free_port


def emulator() -> list[str]:
    """qemu-aarch64 on other machines; nothing on an aarch64 machine."""
    if platform.machine() == "aarch64":
        return []
    for name in ("qemu-aarch64", "qemu-aarch64-static"):
        if path := shutil.which(name):
            return [path]
    pytest.fail("qemu-aarch64 not found: scripts/deploy-deps.sh installs qemu-user")


def test_aarch64_all_in_one_serves_a_chat_under_qemu_and_stops_cleanly(procs, tmp_path):
    port = free_port()
    env = {
        "GOCHAT_LISTEN": f"127.0.0.1:{port}",
        "GOCHAT_DATA_DIR": tmp_path / "data",
        "GOCHAT_CLIENT_DIR": DIST / "linux-arm64" / "client" / "dist",
        **FAST_ARGON2,  # argon2 is emulated instruction by instruction
    }
    server = procs.start("gochat-arm64", [*emulator(), dist_bin("arm64", "gochat"), "serve"], env)
    base = f"http://127.0.0.1:{port}"
    procs.wait_ready(server, base, timeout=120)

    chat_scenario(base)
    status, _, body = Http(base).raw("GET", "/")
    assert status == 200 and b"<html" in body.lower()

    server.stop()  # SIGTERM: drains and exits 0
