"""config/: the default TOML files name only real settings (and the binaries accept them), the
Litestream files are read by the real Litestream, and nginx.conf passes `nginx -t` as shipped
(with only its certificate paths pointed at a test certificate)."""

import re
import subprocess
import tomllib

import pytest
from conftest import ROOT, SERVICES, dist_bin, nginx_argv, substitute

CONFIG = ROOT / "config"
SETTING = re.compile(r"^# ([a-z0-9_]+) = (.*)$")


def uncommented(path):
    """The file with every `# name = value` line made live."""
    return "\n".join(
        SETTING.sub(r"\1 = \2", line) for line in path.read_text().splitlines()
    )


@pytest.mark.parametrize("name", ["gochat"] + SERVICES)
def test_default_toml_lists_real_settings_that_the_binary_accepts(name, tmp_path):
    path = CONFIG / f"{name}.toml"
    assert tomllib.loads(path.read_text()) == {}, "every setting ships commented out (the defaults)"
    live = uncommented(path)
    settings = tomllib.loads(live)
    assert settings, "the file documents settings"

    binary = dist_bin("amd64", "gochat")
    argv = [binary, "serve" if name == "gochat" else name]
    help_text = subprocess.run([*argv, "--help"], capture_output=True, text=True, timeout=10, check=True).stdout
    flags = set(re.findall(r"--([a-z0-9-]+)", help_text))
    for key in settings:
        assert key.replace("_", "-") in flags, f"{path.name}: {key} is not a setting of {' '.join(map(str, argv))}"

    # The binary reads the file with every line live, values and types included: it gets as far
    # as loading the session key, which the test makes too short so that it stops right there.
    short_key = tmp_path / "short.key"
    short_key.write_text("short")
    conf = tmp_path / f"{name}.toml"
    conf.write_text(live.replace('jwt_key_file = "data/jwt.key"', f'jwt_key_file = "{short_key}"'))
    out = subprocess.run([*argv, "--config", conf], capture_output=True, text=True, timeout=20, cwd=tmp_path)
    assert out.returncode != 0 and "too short" in out.stderr, out.stderr


@pytest.mark.parametrize("svc", SERVICES)
def test_litestream_config_is_read_by_litestream(svc, tmp_path):
    litestream = dist_bin("amd64", "litestream")
    env = {"GOCHAT_DATA_DIR": str(tmp_path), "GOCHAT_LITESTREAM_REPLICA": "file:///replicas", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [litestream, "databases", "-config", CONFIG / "litestream" / f"{svc}.yml"],
        capture_output=True, text=True, timeout=20, env=env,
    )
    assert out.returncode == 0, out.stderr
    assert str(tmp_path / f"{svc}.db") in out.stdout and "file" in out.stdout


def test_nginx_conf_passes_nginx_t(tmp_path, tls_cert):
    cert, key = tls_cert
    text = substitute(
        (CONFIG / "nginx.conf").read_text(),
        [("/etc/gochat/tls/fullchain.pem", str(cert), 1), ("/etc/gochat/tls/privkey.pem", str(key), 1)],
    )
    conf = tmp_path / "nginx.conf"
    conf.write_text(text)
    out = subprocess.run(nginx_argv(tmp_path, conf, "-t"), capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
