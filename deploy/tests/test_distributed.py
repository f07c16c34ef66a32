"""The distributed topology on loopback: RabbitMQ (the test node), every service as its own
process of the one static binary (`gochat <service>`), and Debian's nginx with config/nginx.conf in front (only the ports, the paths and
the certificate changed). A client signs up, chats and gets its notification through nginx
only, over HTTPS and WSS; then every service stops cleanly."""

import json
import re
import shutil
import signal
import tempfile
from pathlib import Path

import pytest
from conftest import (
    DIST, JWT_KEY, ROOT, SERVICES, Http, chat_scenario, dist_bin, free_port, nginx_argv, record, substitute,
)

DEFAULT_PORTS = {"auth": 8081, "users": 8082, "messages": 8083, "chat": 8084, "notifications": 8085}


@pytest.fixture
def public_dir():
    """A directory nginx's unprivileged workers can read (pytest's tmp_path is private to root)."""
    d = Path(tempfile.mkdtemp(prefix="gochat-nginx-"))
    d.chmod(0o755)
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def start_services(procs, tmp_path, amqp_url):
    ports = {svc: free_port() for svc in SERVICES}
    running = {}
    for svc in SERVICES:
        env = {
            "GOCHAT_LISTEN": f"127.0.0.1:{ports[svc]}",
            "GOCHAT_DATA_DIR": tmp_path / svc,
            "GOCHAT_AMQP_URL": amqp_url,
            "GOCHAT_JWT_KEY": JWT_KEY,
            "GOCHAT_TRUST_PROXY": "true",
        }
        running[svc] = procs.start(svc, [dist_bin("amd64", "gochat"), svc], env)
    for svc in SERVICES:
        procs.wait_ready(running[svc], f"http://127.0.0.1:{ports[svc]}")
    return ports, running


def nginx_conf(ports, http_port, https_port, cert, key, client_dir) -> str:
    # The notifications service runs both roles here: the store's upstream and the gateways'.
    replacements = [
        (f"server 127.0.0.1:{DEFAULT_PORTS[s]};", f"server 127.0.0.1:{ports[s]};", 2 if s == "notifications" else 1)
        for s in SERVICES
    ]
    replacements += [
        ("listen 80;", f"listen 127.0.0.1:{http_port};", 1),
        ("listen [::]:80;", "", 1),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;", 1),
        ("listen [::]:443 ssl http2;", "", 1),
        ("/etc/gochat/tls/fullchain.pem", str(cert), 1),
        ("/etc/gochat/tls/privkey.pem", str(key), 1),
        ("root /usr/share/gochat/client;", f"root {client_dir};", 1),
    ]
    return substitute((ROOT / "config" / "nginx.conf").read_text(), replacements)


def test_services_behind_nginx_serve_a_chat_with_notifications_over_tls(procs, tmp_path, amqp_url, tls_cert, public_dir):
    ports, services = start_services(procs, tmp_path, amqp_url)
    idle = {svc: p.rss_kib() for svc, p in services.items()}

    cert, key = tls_cert
    client_dir = public_dir / "client"
    shutil.copytree(DIST / "linux-amd64" / "client" / "dist", client_dir)
    http_port, https_port = free_port(), free_port()
    conf = tmp_path / "nginx.conf"
    conf.write_text(nginx_conf(ports, http_port, https_port, cert, key, client_dir))
    nginx = procs.start("nginx", nginx_argv(tmp_path, conf))
    base = f"https://127.0.0.1:{https_port}"
    procs.wait_ready(nginx, base, "/", cafile=cert)

    # Sign-up, chat and notification, all through nginx (HTTPS and WSS).
    conv = chat_scenario(base, cafile=cert)

    # Behind TLS the session cookie is Secure (X-Forwarded-Proto), and it stays HttpOnly.
    alice = Http(base, cert)
    alice.call("POST", "/api/auth/signin", {"username": "alice", "password": "correct horse battery"})
    assert "Secure" in alice.last_set_cookie and "HttpOnly" in alice.last_set_cookie
    names = {u["username"] for u in alice.call("GET", "/api/users")["users"]}
    assert names == {"alice", "bob"}
    assert alice.call("GET", f"/api/conversations/{conv.id}/messages")["messages"][0]["seq"] == 1

    # Search, blocking and attachments are the messages service's, whatever their prefix
    # (/api/users/blocked beside the users service's /api/users); a file goes through whole.
    assert alice.call("GET", "/api/search?q=hello")["nextCursor"] is None
    assert alice.call("GET", "/api/users/blocked") == {"users": []}
    boundary = "gochat-deploy-test"
    upload = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"note.txt\"\r\n\r\n"
        f"hello\r\n--{boundary}--\r\n"
    ).encode()
    status, _, body = alice.raw(
        "POST", "/api/attachments", upload, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}
    )
    assert status == 201, body
    attachment = json.loads(body)["attachment"]
    status, headers, body = alice.raw("GET", f"/api/attachments/{attachment['id']}")
    assert status == 200 and body == b"hello" and headers["x-content-type-options"] == "nosniff"

    # The Origin check sees the browser's host through X-Forwarded-Host: same origin passes
    # (the sockets above), a foreign one is refused.
    status, _, _ = alice.raw(
        "POST", "/api/conversations", json.dumps({"peerId": conv.bob.user["id"]}).encode(),
        headers={"Origin": "https://evil.example"},
    )
    assert status == 403

    # The client, its own routes, and the contract's 404 for unknown API paths.
    status, headers, body = alice.raw("GET", "/conversations/anything")
    assert status == 200 and b"<html" in body.lower() and headers["cache-control"] == "no-cache"
    status, headers, body = alice.raw("GET", "/api/nothing-here")
    assert status == 404 and json.loads(body)["error"]["code"] == "not_found"

    # The bundle goes out as the build's .gz copy (gzip_static), cached for good; a bundle that
    # is not there is a 404; every answer carries the security headers.
    index = alice.raw("GET", "/")[2].decode()
    bundle = re.search(r'src="(/assets/[^"]+\.js)"', index).group(1)
    status, headers, body = alice.raw("GET", bundle, headers={"Accept-Encoding": "gzip"})
    assert status == 200 and headers["content-encoding"] == "gzip"
    assert body == (client_dir / f"{bundle[1:]}.gz").read_bytes()
    assert headers["cache-control"] == "public, max-age=31536000, immutable"
    assert alice.raw("GET", "/assets/index-0ld.js")[0] == 404
    for path in ("/", bundle, "/api/users"):
        headers = alice.raw("GET", path)[1]
        assert "frame-ancestors 'none'" in headers["content-security-policy"], path
        assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff", path

    # Plain HTTP moves to HTTPS.
    status, headers, _ = Http(f"http://127.0.0.1:{http_port}").raw("GET", "/api/users")
    assert status == 308 and headers["location"].startswith("https://127.0.0.1/api/users")

    record("idle-rss-kib-per-service", idle)
    record("rss-kib-per-service-after-chat", {svc: p.rss_kib() for svc, p in services.items()})

    for svc in SERVICES:
        services[svc].stop()  # SIGTERM: sockets closed, outbox flushed, exit 0
    nginx.stop(signal.SIGQUIT)
