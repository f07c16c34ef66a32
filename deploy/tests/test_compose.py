"""docker-compose.yml (all in one) and docker-compose.distributed.yml (RabbitMQ, one container
per service, nginx): no Docker engine runs here, so they are checked structurally: what they
run, that every GOCHAT_* variable is a setting of the command it is given to, that the
distributed file wires each service to the port config/nginx.conf routes to, and that every file
they mount is in the release tarball."""

import re
import subprocess

import pytest
import yaml
from conftest import DIST, ROOT, SERVICES, dist_bin

NGINX_PORTS = {svc: int(port) for svc, port in re.findall(
    r"upstream gochat_(\w+) \{\s*server 127\.0\.0\.1:(\d+);", (ROOT / "config" / "nginx.conf").read_text())}


def load(name):
    return yaml.safe_load((ROOT / name).read_text())


def env_names(command: str) -> set[str]:
    """The GOCHAT_* variables `gochat <command>` reads (its --help lists each as [env: NAME=])."""
    out = subprocess.run([dist_bin("amd64", "gochat"), command, "--help"], capture_output=True, text=True,
                         timeout=10, check=True).stdout
    return set(re.findall(r"\[env: (GOCHAT_\w+)[=\]]", out))  # secrets show no value


def test_all_in_one_runs_serve_with_its_data_in_a_volume():
    compose = load("docker-compose.yml")
    [(name, svc)] = compose["services"].items()
    assert svc["image"] == "gochat" and svc["command"] == ["serve"]
    assert "8080:8080" in svc["ports"] and svc["environment"]["GOCHAT_LISTEN"].endswith(":8080")
    assert f"gochat-data:{svc['environment']['GOCHAT_DATA_DIR']}" in svc["volumes"]
    assert set(svc["environment"]) <= env_names("serve")
    assert "gochat-data" in compose["volumes"]


def test_distributed_runs_each_service_over_rabbitmq_behind_nginx():
    compose = load("docker-compose.distributed.yml")
    services = compose["services"]
    assert set(services) == {"ingress", "rabbitmq", *SERVICES}
    assert {"80:80", "443:443"} <= set(services["ingress"]["ports"])
    volumes = set(compose["volumes"])
    keys, urls = set(), set()
    for svc in SERVICES:
        spec = services[svc]
        env = spec["environment"]
        assert spec["image"] == "gochat" and spec["command"] == [svc]
        assert spec["network_mode"] == "service:ingress"
        assert spec["depends_on"]["rabbitmq"]["condition"] == "service_healthy"
        # Where nginx sends this service's routes.
        assert env["GOCHAT_LISTEN"] == f"127.0.0.1:{NGINX_PORTS[svc]}", svc
        assert env["GOCHAT_TRUST_PROXY"] == "true"
        assert set(env) <= env_names(svc), set(env) - env_names(svc)
        [volume] = spec["volumes"]
        assert volume.split(":")[0] in volumes and volume.endswith(f":{env['GOCHAT_DATA_DIR']}")
        keys.add(env["GOCHAT_JWT_KEY"])
        urls.add(env["GOCHAT_AMQP_URL"])
    assert len(keys) == 1 and len(urls) == 1, "every service shares one key and one broker"
    assert urls.pop().startswith("amqp://gochat:${AMQP_PASSWORD")
    assert "AMQP_PASSWORD" in services["rabbitmq"]["environment"]["RABBITMQ_DEFAULT_PASS"]
    assert services["rabbitmq"]["network_mode"] == "service:ingress"
    assert services["rabbitmq"]["healthcheck"]["test"][:2] == ["CMD", "rabbitmq-diagnostics"]
    assert len({services[s]["volumes"][0] for s in SERVICES}) == len(SERVICES), "a volume per service"


@pytest.mark.parametrize("name", ["docker-compose.yml", "docker-compose.distributed.yml"])
def test_every_mounted_file_is_in_the_release(name):
    release = DIST / "linux-amd64"
    assert (release / name).read_text() == (ROOT / name).read_text(), "the tarball ships the compose file"
    for svc in load(name)["services"].values():
        for volume in svc.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./") and source not in ("./tls", "./acme"):  # the operator's own
                assert (release / source).exists(), f"{name}: {source} is not in the release"
