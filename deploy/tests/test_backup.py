"""`gochat backup` while a chat is running, `gochat restore` into a fresh data directory, and a
server started on it: the history is intact (every message up to the instant of the backup, `seq`
without gaps), accounts and sessions too (the session key travels with the backup)."""

import json
import sqlite3
import subprocess
import threading
import time

import websocket
from conftest import (
    DIST, FAST_ARGON2, Http, dist_bin, free_port, history, next_frame, record, send, start_conversation,
)


def gochat(*args, data_dir, expect_ok=True):
    out = subprocess.run(
        [dist_bin("amd64", "gochat"), *map(str, args)],
        capture_output=True, text=True, timeout=60, env={"GOCHAT_DATA_DIR": str(data_dir)},
    )
    if expect_ok:
        assert out.returncode == 0, out.stderr
    return out


def serve(procs, name, data_dir):
    port = free_port()
    env = {
        "GOCHAT_LISTEN": f"127.0.0.1:{port}",
        "GOCHAT_DATA_DIR": data_dir,
        "GOCHAT_CLIENT_DIR": DIST / "linux-amd64" / "client" / "dist",
        **FAST_ARGON2,
    }
    server = procs.start(name, [dist_bin("amd64", "gochat"), "serve"], env)
    base = f"http://127.0.0.1:{port}"
    procs.wait_ready(server, base)
    return server, base


def test_backup_during_a_chat_restores_into_a_fresh_directory_with_the_history_intact(procs, tmp_path):
    live = tmp_path / "live"
    server, base = serve(procs, "gochat-live", live)
    record("idle-rss-kib-all-in-one", server.rss_kib())
    alice, bob = Http(base), Http(base)
    alice.signup("alice")
    bob.signup("bob")
    conv = start_conversation(alice, bob)
    alice_chat, bob_chat = alice.ws("/ws/chat"), bob.ws("/ws/chat")

    # Alice keeps writing while the backup is taken; Bob's tab counts what was stored.
    stored, sent, stop, done = [], [], threading.Event(), threading.Event()

    def writer():
        try:
            while not stop.is_set() or len(sent) < 20:
                sent.append(send(alice_chat, conv.id, f"m{len(sent) + 1}"))
                next_frame(alice_chat, "accepted")
        finally:
            done.set()

    def reader():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (done.is_set() and len(stored) >= len(sent)):
            try:
                stored.append(next_frame(bob_chat, "message", timeout=0.5)["message"]["seq"])
            except (AssertionError, websocket.WebSocketTimeoutException):
                continue

    w, r = threading.Thread(target=writer), threading.Thread(target=reader)
    w.start()
    r.start()
    while len(stored) < 10 and r.is_alive():  # the chat is well under way
        r.join(0.05)
    before_backup = len(stored)
    backup_dir = tmp_path / "backup"
    out = gochat("backup", backup_dir, data_dir=live)
    stop.set()
    w.join(60)
    r.join(60)
    assert not w.is_alive() and not r.is_alive()
    assert len(stored) == len(sent), "every accepted message was stored and pushed"
    alice_chat.close()
    bob_chat.close()
    assert "backed up 5 databases" in out.stdout

    manifest = json.loads((backup_dir / "manifest.json").read_text())
    assert sorted(d["name"] for d in manifest["databases"]) == ["auth", "chat", "messages", "notifications", "users"]
    # The session key and the Web Push key (no attachment was sent in this chat).
    assert [f["file"] for f in manifest["files"]] == ["jwt.key", "vapid.key"]
    assert manifest["gochatVersion"] and manifest["createdAt"]
    with sqlite3.connect(backup_dir / "messages.db") as db:
        in_backup = db.execute("SELECT count(*) FROM messages WHERE conversation_id = ?", (conv.id,)).fetchone()[0]
    # The backup caught the chat mid-stream: everything stored before it started, not yet the end.
    assert before_backup <= in_backup <= len(stored), (before_backup, in_backup, len(stored))

    # Restore never writes into live data.
    refused = gochat("restore", backup_dir, data_dir=live, expect_ok=False)
    assert refused.returncode != 0 and "not empty" in refused.stderr
    server.stop()

    fresh = tmp_path / "fresh"
    gochat("restore", backup_dir, data_dir=fresh)
    _, base = serve(procs, "gochat-restored", fresh)

    # The old session still works (same key, same account), and the history is the backup's.
    alice.base = bob.base = base
    assert alice.call("GET", "/api/auth/currentuser")["currentUser"]["username"] == "alice"
    restored = history(bob, conv.id)
    assert [m["seq"] for m in restored] == list(range(1, in_backup + 1))
    assert [m["body"] for m in restored] == [f"m{i}" for i in range(1, in_backup + 1)]
    Http(base).call("POST", "/api/auth/signin", {"username": "bob", "password": "correct horse battery"})
