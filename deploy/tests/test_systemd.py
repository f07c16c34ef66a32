"""config/gochat.service: the systemd unit of the README's "One Raspberry Pi", as shipped in the
tarball, passes `systemd-analyze verify` with the release's binary in place of /opt/gochat, and
its hardening keeps `systemd-analyze security` at an exposure of 2.0 or less."""

import configparser
import shutil
import subprocess

import pytest
from conftest import DIST, ROOT

UNIT = ROOT / "config" / "gochat.service"


def systemd_analyze():
    found = shutil.which("systemd-analyze")
    if not found:
        pytest.skip("systemd-analyze is not installed here (Debian: apt install systemd); the unit is not verified")
    return found


def unit_for_release(tmp_path):
    """The shipped unit pointing at the unpacked amd64 release instead of /opt/gochat."""
    release = DIST / "linux-amd64"
    assert (release / "bin" / "gochat").exists(), "run `make dist` first"
    text = UNIT.read_text()
    assert (release / "config" / "gochat.service").read_text() == text, "the tarball ships config/gochat.service"
    unit = tmp_path / "gochat.service"
    unit.write_text(text.replace("/opt/gochat", str(release)))
    return unit


def test_unit_passes_systemd_analyze_verify(tmp_path):
    analyze = systemd_analyze()
    unit = unit_for_release(tmp_path)
    out = subprocess.run([analyze, "verify", unit], capture_output=True, text=True, timeout=60)
    # Unknown or misspelt keys are only warnings: any output is a failure here.
    assert out.returncode == 0 and not out.stderr.strip() and not out.stdout.strip(), out


def test_unit_is_hardened(tmp_path):
    analyze = systemd_analyze()
    unit = unit_for_release(tmp_path)
    out = subprocess.run(
        [analyze, "security", "--offline=true", "--threshold=20", unit], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr

    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read_string(UNIT.read_text())
    unit, service = parser["Unit"], parser["Service"]
    assert "network-online.target" in unit["After"] and "network-online.target" in unit["Wants"]
    assert service["ExecStart"].split() == ["/opt/gochat/bin/gochat", "serve"]
    assert service["DynamicUser"] == "yes" and service["StateDirectory"] == "gochat"
    assert "GOCHAT_DATA_DIR=/var/lib/gochat" in service["Environment"] or any(
        line == "Environment=GOCHAT_DATA_DIR=/var/lib/gochat" for line in UNIT.read_text().splitlines()
    )
    for key, value in {"ProtectSystem": "strict", "NoNewPrivileges": "yes", "PrivateTmp": "yes"}.items():
        assert service[key] == value, key
    assert set(service["RestrictAddressFamilies"].split()) == {"AF_INET", "AF_INET6", "AF_UNIX"}
    assert parser["Install"]["WantedBy"] == "multi-user.target"


def test_readme_runs_the_shipped_unit():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## One Raspberry Pi", 1)[1].split("\n## ", 1)[0]
    assert "config/gochat.service" in section and "[Service]" not in section, "README uses the shipped file"
