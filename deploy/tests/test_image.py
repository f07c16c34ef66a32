"""The container image, built here with buildah from the Dockerfile (vfs storage, chroot
isolation, nothing pulled: the image is FROM scratch): one per architecture, each with the
binary of its TARGETARCH; the amd64 image runs the all-in-one server as its unprivileged user
with the data volume, serves the client and a chat, and answers its own health check."""

import json
import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
from conftest import DIST, FAST_ARGON2, ROOT, Http, chat_scenario, free_port, record
from test_dist import MACHINE, elf


@pytest.fixture(scope="module")
def buildah(tmp_path_factory):
    """buildah with a private store, removed afterwards."""
    if not shutil.which("buildah"):
        pytest.fail("buildah not found: scripts/deploy-deps.sh installs it")
    store = tmp_path_factory.mktemp("containers")
    base = ["buildah", "--root", str(store / "storage"), "--runroot", str(store / "run"), "--storage-driver", "vfs"]

    def run(*args, timeout=300, check=True):
        out = subprocess.run([*base, *map(str, args)], capture_output=True, text=True, timeout=timeout)
        if check:
            assert out.returncode == 0, f"buildah {' '.join(map(str, args))}:\n{out.stderr}"
        return out

    run.argv = base
    yield run
    run("rm", "--all", check=False)
    shutil.rmtree(store, ignore_errors=True)


@pytest.fixture(scope="module")
def images(buildah):
    for arch in ("amd64", "arm64"):
        buildah(
            "build", "--isolation", "chroot", "--format", "docker", "--platform", f"linux/{arch}",
            "--tag", f"gochat:test-{arch}", "--file", ROOT / "Dockerfile", DIST,
        )
    return {arch: f"gochat:test-{arch}" for arch in ("amd64", "arm64")}


def inspect(buildah, image) -> dict:
    return json.loads(buildah("inspect", "--type", "image", image).stdout)


@pytest.mark.parametrize("arch", ["amd64", "arm64"])
def test_image_has_its_architectures_binary_a_non_root_user_a_volume_and_a_health_check(buildah, images, arch):
    info = inspect(buildah, images[arch])
    config = info["Docker"]["config"]
    assert info["Docker"]["architecture"] == arch
    assert config["User"] == "10001:10001"
    assert "/data" in config["Volumes"]
    assert config["Entrypoint"] == ["/usr/local/bin/gochat"] and config["Cmd"] == ["serve"]
    assert config["Healthcheck"]["Test"] == ["CMD", "/usr/local/bin/gochat", "probe"]
    assert "GOCHAT_DATA_DIR=/data" in config["Env"] and "GOCHAT_LISTEN=0.0.0.0:8080" in config["Env"]

    container = buildah("from", images[arch]).stdout.strip()
    try:
        root = buildah("mount", container).stdout.strip()
        machine, _, _ = elf(Path(root) / "usr/local/bin/gochat")
        assert machine == MACHINE[arch]
        assert (Path(root) / "opt/gochat/client/dist/index.html").exists()
        assert (Path(root) / "opt/gochat/config/gochat.toml").exists()
        assert (Path(root) / "data").stat().st_uid == 10001
    finally:
        buildah("umount", container, check=False)
        buildah("rm", container, check=False)

    images_json = json.loads(buildah("images", "--json", images[arch]).stdout)
    record(f"image-size-{arch}", images_json[0]["size"])


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (a child may be forked by any of its threads)."""
    children = {int(c) for task in Path(f"/proc/{pid}/task").iterdir() for c in (task / "children").read_text().split()}
    return [d for c in children for d in [c, *descendants(c)]]


def test_amd64_image_serves_a_chat_as_its_own_user_and_answers_its_health_check(buildah, images, procs):
    config = inspect(buildah, images["amd64"])["Docker"]["config"]
    port = free_port()
    container = buildah("from", "--name", f"gochat-smoke-{port}", images["amd64"]).stdout.strip()
    # chroot isolation shares this machine's network: listen on a free loopback port instead of
    # the image's 0.0.0.0:8080. Everything else (user, working directory, the /data volume, the
    # other settings) is the image's own; the command is its entrypoint and default command.
    env = [f"GOCHAT_LISTEN=127.0.0.1:{port}"] + [f"{k}={v}" for k, v in FAST_ARGON2.items()]
    run = [*buildah.argv, "run", "--isolation", "chroot"]
    for e in env:
        run += ["--env", e]
    server = procs.start("image", [*run, container, "--", *config["Entrypoint"], *config["Cmd"]])
    base = f"http://127.0.0.1:{port}"
    procs.wait_ready(server, base, timeout=120)

    chat_scenario(base)
    status, _, body = Http(base).raw("GET", "/")
    assert status == 200 and b"<html" in body.lower()

    # The image's health check command, run as Docker would (inside the container).
    health = buildah("run", "--isolation", "chroot", "--env", env[0], container, "--", *config["Healthcheck"]["Test"][1:])
    assert health.returncode == 0

    # The server runs as the image's unprivileged user, its databases in the /data volume.
    [gochat] = [p for p in descendants(server.popen.pid) if Path(f"/proc/{p}/exe").resolve().name == "gochat"]
    ids = {line.split(":")[0]: set(line.split()[1:]) for line in Path(f"/proc/{gochat}/status").read_text().splitlines() if line.startswith(("Uid:", "Gid:"))}
    assert ids == {"Uid": {"10001"}, "Gid": {"10001"}}
    volume = Path(f"/proc/{gochat}/root/data")
    # One database per service, and the messages service's search index.
    assert {p.name for p in volume.glob("*.db")} == {f"{s}.db" for s in ("auth", "users", "messages", "messages-search", "chat", "notifications")}
    assert {p.stat().st_uid for p in volume.iterdir()} == {10001}

    # `docker stop` sends SIGTERM to the container's process: it drains and exits 0. (buildah
    # run itself does not pass SIGTERM on, it kills its child.)
    os.kill(gochat, signal.SIGTERM)
    assert server.popen.wait(30) == 0, server.tail()
    buildah("rm", container, check=False)
