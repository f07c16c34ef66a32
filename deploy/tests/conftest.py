"""Deployment tests: what operators run (release binaries, nginx, Litestream, Nomad job files,
the container image, backup and restore), run here for real.

They use `make dist`'s output in target/dist/ (the static binaries, unpacked per architecture)
and, where a broker is needed, the private RabbitMQ node of scripts/with-rabbitmq.sh
(GOCHAT_TEST_AMQP_URL and friends). `make test` and `make deploy-test` provide both.

Layout
- this file: where things are, processes that are started, polled ready and stopped (and always
  reaped), an HTTP client with the session cookie, WebSocket helpers, and the chat scenario
  that several tests run (two users sign up, exchange a message, get the notification).
- test_*.py: one file per deployment route; each test is bounded by pytest-timeout and polls
  for readiness with a deadline instead of sleeping.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, TypeVar

import pytest
import websocket

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "target" / "dist"
SERVICES = ["auth", "users", "messages", "chat", "notifications"]
# What the tests write for the report (binary sizes, RSS, image size), one JSON file per key.
MEASUREMENTS = ROOT / "target" / "deploy-measurements"
T = TypeVar("T")


def version() -> str:
    in_package = False
    for line in (ROOT / "Cargo.toml").read_text().splitlines():
        if line.startswith("["):
            in_package = line.strip() == "[workspace.package]"
        elif in_package and line.startswith("version"):
            return line.split("=", 1)[1].strip().strip('"')
    raise AssertionError("no version in Cargo.toml's [workspace.package]")


def dist_bin(arch: str, name: str) -> Path:
    path = DIST / f"linux-{arch}" / "bin" / name
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make dist` first")
    return path


def record(key: str, value) -> None:
    """Keeps a measurement for the summary printed at the end of the run."""
    MEASUREMENTS.mkdir(parents=True, exist_ok=True)
    (MEASUREMENTS / f"{key}.json").write_text(json.dumps(value, indent=1))


def pytest_sessionstart(session):
    if MEASUREMENTS.exists():
        for f in MEASUREMENTS.glob("*.json"):
            f.unlink()


def pytest_terminal_summary(terminalreporter):
    if not MEASUREMENTS.exists():
        return
    files = sorted(MEASUREMENTS.glob("*.json"))
    if not files:
        return
    terminalreporter.section("deployment measurements")
    for f in files:
        terminalreporter.write_line(f"{f.stem}: {f.read_text().strip()}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def eventually(what: str, attempt: Callable[[], T | None], timeout: float = 30, every: float = 0.1) -> T:
    """Calls `attempt` until it returns something other than None, or fails after `timeout`."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            result = attempt()
            if result is not None:
                return result
        except (OSError, http.client.HTTPException, websocket.WebSocketException) as e:
            last_error = e
        time.sleep(every)
    raise AssertionError(f"{what}: not within {timeout}s (last error: {last_error!r})")


# --- processes --------------------------------------------------------------------------------


@dataclass
class Proc:
    """A process this test started: its output goes to a log file, shown when a check fails."""

    name: str
    popen: subprocess.Popen
    log: Path

    def tail(self, lines: int = 40) -> str:
        try:
            text = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(text[-lines:])

    def alive(self) -> bool:
        return self.popen.poll() is None

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.popen.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError(f"{self.name}: no VmRSS")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30, expect: int | None = 0) -> int:
        """Sends `sig` and waits; by default the process must exit 0 (a clean drain)."""
        if self.alive():
            self.popen.send_signal(sig)
        try:
            code = self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
            raise AssertionError(f"{self.name} did not stop within {timeout}s after {sig!r}:\n{self.tail()}")
        if expect is not None:
            assert code == expect, f"{self.name} exited {code} (expected {expect}):\n{self.tail()}"
        return code

    def kill(self) -> None:
        """SIGKILL to the whole process group (a process and what it runs, e.g. Litestream's child)."""
        if self.alive():
            try:
                os.killpg(self.popen.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.popen.wait()


class Procs:
    """Starts processes and makes sure none outlives the test."""

    def __init__(self, logs: Path):
        self.logs = logs
        self.started: list[Proc] = []

    def start(self, name: str, argv: list, env: dict | None = None, cwd: Path | None = None) -> Proc:
        log = self.logs / f"{name}.log"
        out = open(log, "ab")
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("GOCHAT_")}
        full_env.update({"GOCHAT_LOG": "info"})
        full_env.update({k: str(v) for k, v in (env or {}).items()})
        popen = subprocess.Popen(
            [str(a) for a in argv],
            env=full_env,
            cwd=cwd or self.logs,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kill() reaches its children
        )
        out.close()
        proc = Proc(name, popen, log)
        self.started.append(proc)
        return proc

    def wait_ready(
        self, proc: Proc, base: str, path: str = "/readyz", timeout: float = 60, cafile: Path | None = None
    ) -> None:
        """Polls `base + path` until it answers 200; fails at once if the process died."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not proc.alive():
                raise AssertionError(f"{proc.name} exited with {proc.popen.returncode}:\n{proc.tail()}")
            try:
                status, _, _ = Http(base, cafile).raw("GET", path)
                if status == 200:
                    return
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.05)
        raise AssertionError(f"{proc.name} not ready at {base}{path} within {timeout}s:\n{proc.tail()}")

    def cleanup(self) -> None:
        for proc in reversed(self.started):
            proc.kill()


@pytest.fixture
def procs(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    p = Procs(logs)
    try:
        yield p
    finally:
        p.cleanup()


# --- HTTP and WebSockets ----------------------------------------------------------------------


@dataclass
class Http:
    """A client of one origin that keeps the `auth` session cookie, like a browser tab."""

    base: str
    cafile: Path | None = None
    cookie: str | None = None
    user: dict = field(default_factory=dict)
    last_set_cookie: str | None = None

    def _connection(self):
        scheme, rest = self.base.split("://", 1)
        host, _, port = rest.partition(":")
        if scheme == "https":
            context = ssl.create_default_context(cafile=str(self.cafile) if self.cafile else None)
            return http.client.HTTPSConnection(host, int(port or 443), timeout=15, context=context)
        return http.client.HTTPConnection(host, int(port or 80), timeout=15)

    def raw(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        conn = self._connection()
        try:
            hdrs = {"Accept": "application/json"}
            if body is not None:
                hdrs["Content-Type"] = "application/json"
            if self.cookie:
                hdrs["Cookie"] = f"auth={self.cookie}"
            hdrs.update(headers or {})
            conn.request(method, path, body=body, headers=hdrs)
            resp = conn.getresponse()
            data = resp.read()
            for name, value in resp.getheaders():
                if name.lower() == "set-cookie" and value.startswith("auth="):
                    self.last_set_cookie = value
                    token = value.split(";", 1)[0].split("=", 1)[1]
                    self.cookie = token or None
            # A header sent twice is one field with both values (RFC 9110), so a duplicate shows.
            merged: dict[str, str] = {}
            for name, value in resp.getheaders():
                name = name.lower()
                merged[name] = f"{merged[name]}, {value}" if name in merged else value
            return resp.status, merged, data
        finally:
            conn.close()

    def call(self, method: str, path: str, payload=None, expect: int | tuple = 200):
        body = None if payload is None else json.dumps(payload).encode()
        status, headers, data = self.raw(method, path, body)
        expected = expect if isinstance(expect, tuple) else (expect,)
        assert status in expected, f"{method} {path}: {status} {data[:500]!r}"
        return json.loads(data) if data else None

    def signup(self, username: str, password: str = "correct horse battery") -> dict:
        body = self.call(
            "POST",
            "/api/auth/signup",
            {"email": f"{username}@example.org", "username": username, "password": password},
            expect=201,
        )
        self.user = body["user"]
        assert self.cookie, "signup sets the auth cookie"
        return self.user

    def ws(self, path: str):
        scheme = "wss" if self.base.startswith("https") else "ws"
        url = f"{scheme}://{self.base.split('://', 1)[1]}{path}"
        sslopt = {"ca_certs": str(self.cafile)} if self.cafile else None
        # websocket-client sends Origin: <scheme>://<host:port>, the same origin as the page.
        return websocket.create_connection(url, header=[f"Cookie: auth={self.cookie}"], timeout=15, sslopt=sslopt)


def next_frames(sock, kinds: tuple[str, ...], timeout: float = 20) -> dict[str, dict]:
    """The next frame of each type in `kinds`, whatever their order (frames of other types are
    skipped), by type."""
    deadline = time.monotonic() + timeout
    found: dict[str, dict] = {}
    while len(found) < len(kinds):
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no {set(kinds) - set(found)} frame within {timeout}s")
        sock.settimeout(left)
        frame = json.loads(sock.recv())
        if frame.get("type") == "error":
            raise AssertionError(f"error frame while waiting for {kinds}: {frame}")
        if frame.get("type") in kinds:
            found.setdefault(frame["type"], frame)
    return found


def next_frame(sock, kind: str, timeout: float = 20) -> dict:
    """The next frame of type `kind` on a socket (frames of other types are skipped)."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no {kind!r} frame within {timeout}s")
        sock.settimeout(left)
        frame = json.loads(sock.recv())
        if frame.get("type") == "error":
            raise AssertionError(f"error frame while waiting for {kind!r}: {frame}")
        if frame.get("type") == kind:
            return frame


@dataclass
class Conversation:
    alice: Http
    bob: Http
    id: str


def start_conversation(alice: Http, bob: Http, timeout: float = 30) -> Conversation:
    """Alice opens a conversation with Bob, once the messages service has learned of both
    (in the distributed topology registrations reach it through RabbitMQ)."""

    def create():
        status, _, data = alice.raw("POST", "/api/conversations", json.dumps({"peerId": bob.user["id"]}).encode())
        return json.loads(data)["conversation"]["id"] if status in (200, 201) else None

    return Conversation(alice, bob, eventually("the messages service learns both users", create, timeout))


def send(sock, conversation_id: str, body: str) -> str:
    client_id = str(uuid.uuid4())
    sock.send(json.dumps({"type": "send", "clientId": client_id, "conversationId": conversation_id, "body": body}))
    return client_id


def chat_scenario(base: str, cafile: Path | None = None) -> Conversation:
    """Two people sign up, Alice writes to Bob over /ws/chat; Bob's tab gets the message and his
    notification socket the notification; the history has it as seq 1."""
    alice, bob = Http(base, cafile), Http(base, cafile)
    alice.signup("alice")
    bob.signup("bob")
    conv = start_conversation(alice, bob)

    bob_chat, bob_notes, alice_chat = bob.ws("/ws/chat"), bob.ws("/ws/notifications"), alice.ws("/ws/chat")
    try:
        client_id = send(alice_chat, conv.id, "hello from the edge")
        # `accepted` and the sender's own copy may come in either order (docs/PROTOCOL.md).
        answers = next_frames(alice_chat, ("accepted", "message"))
        assert answers["accepted"]["clientId"] == client_id
        mine = answers["message"]["message"]
        theirs = next_frame(bob_chat, "message")["message"]
        assert mine == theirs
        assert theirs["body"] == "hello from the edge" and theirs["seq"] == 1
        assert theirs["senderId"] == alice.user["id"] and theirs["clientId"] == client_id
        note = next_frame(bob_notes, "notification")["notification"]
        assert note["from"]["id"] == alice.user["id"] and note["seq"] == 1
    finally:
        for s in (bob_chat, bob_notes, alice_chat):
            s.close()

    page = bob.call("GET", f"/api/conversations/{conv.id}/messages")
    assert [m["body"] for m in page["messages"]] == ["hello from the edge"]
    listed = bob.call("GET", "/api/conversations")["conversations"]
    assert listed[0]["id"] == conv.id and listed[0]["unread"] == 1
    assert bob.call("GET", "/api/notifications")["unreadCount"] >= 1
    return conv


def history(client: Http, conversation_id: str) -> list[dict]:
    """Every message of a conversation, ascending by seq."""
    out, after = [], 0
    while True:
        page = client.call("GET", f"/api/conversations/{conversation_id}/messages?after={after}&limit=100")
        out.extend(page["messages"])
        if not page["hasMore"] or not page["messages"]:
            return out
        after = page["messages"][-1]["seq"]


# --- RabbitMQ -----------------------------------------------------------------------------------


@pytest.fixture
def amqp_url():
    """A fresh vhost on the test node, so no queue or message of another test is seen."""
    url = os.environ.get("GOCHAT_TEST_AMQP_URL")
    ctl = os.environ.get("GOCHAT_TEST_RABBITMQCTL")
    node = os.environ.get("GOCHAT_TEST_RABBITMQ_NODE")
    if not (url and ctl and node):
        pytest.fail("needs a RabbitMQ node: run under scripts/with-rabbitmq.sh (make deploy-test)")
    vhost = f"deploy-{uuid.uuid4().hex[:8]}"
    subprocess.run([ctl, "-q", "-n", node, "add_vhost", vhost], check=True, timeout=60)
    subprocess.run([ctl, "-q", "-n", node, "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"], check=True, timeout=60)
    try:
        yield url.rsplit("/", 1)[0] + "/" + vhost
    finally:
        subprocess.run([ctl, "-q", "-n", node, "delete_vhost", vhost], timeout=60)


JWT_KEY = "deploy-tests-" + "k" * 40

# Cheaper argon2 for tests that sign up through emulated or many processes.
FAST_ARGON2 = {"GOCHAT_ARGON2_MEMORY_KIB": "8192", "GOCHAT_ARGON2_ITERATIONS": "1"}


# --- TLS and nginx ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def tls_cert(tmp_path_factory):
    """A throw-away self-signed certificate for 127.0.0.1: (certificate, key); the certificate is
    also the CA file clients trust."""
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "fullchain.pem", d / "privkey.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert],
        check=True, capture_output=True, timeout=60,
    )
    d.chmod(0o755)
    cert.chmod(0o644)
    key.chmod(0o644)  # read by nginx's workers (www-data) in the test only
    return cert, key


def substitute(text: str, replacements: list[tuple[str, str, int]]) -> str:
    """Replaces each `old` by `new`, insisting that `old` occurs exactly `count` times, so a
    change to the file cannot silently make the test run something else."""
    for old, new, count in replacements:
        found = text.count(old)
        assert found == count, f"expected {count} of {old!r} in the config, found {found}"
        text = text.replace(old, new)
    return text


def nginx_argv(workdir: Path, conf: Path, *extra: str) -> list:
    """Debian's nginx with its pid file and error log in `workdir`, in the foreground."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    return [nginx, "-p", workdir, "-c", conf, "-e", workdir / "error.log",
            "-g", f"daemon off; pid {workdir / 'nginx.pid'};", *extra]
