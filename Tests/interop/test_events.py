"""Operator events: a subscriber to /events and a webhook receive each kind as it happens,
and the recent history is queryable."""
import http.server
import json
import threading
import time
import urllib.request

from rawzk import RawClient, Closed, i32, string, buf
from servers import Server, free_port


class Collector:
    def __init__(self):
        self.events = []
        self.cond = threading.Condition()

    def add(self, event):
        with self.cond:
            self.events.append(event)
            self.cond.notify_all()

    def wait_for(self, kind, timeout=15):
        with self.cond:
            self.cond.wait_for(lambda: any(e["kind"] == kind for e in self.events), timeout)
            return [e for e in self.events if e["kind"] == kind]


def subscribe(port, collector):
    response = urllib.request.urlopen("http://127.0.0.1:%d/events" % port, timeout=60)
    assert response.headers["Content-Type"].startswith("text/event-stream")

    def read():
        try:
            for raw in response:
                line = raw.decode().rstrip("\n")
                if line.startswith("data: "):
                    collector.add(json.loads(line[6:]))
        except Exception:
            pass
    threading.Thread(target=read, daemon=True).start()


def webhook_receiver(collector):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            collector.add(json.loads(body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_every_kind_of_event_reaches_subscribers_and_webhooks():
    hooks = Collector()
    receiver = webhook_receiver(hooks)
    server = Server("aviary", admin=True, extra_config="maxClientCnxns=3\nfsync.warningthresholdms=0\n"
                    "aviary.webhooks=http://127.0.0.1:%d/hook\n" % receiver.server_address[1])
    stream = Collector()
    try:
        recent = json.loads(urllib.request.urlopen("http://127.0.0.1:%d/events/recent" % server.admin_port).read())
        assert [e["kind"] for e in recent][:2] == ["server_started", "state_changed"]
        assert all(set(e) == {"time", "server", "kind", "details"} for e in recent)
        subscribe(server.admin_port, stream)
        time.sleep(0.3)

        client = RawClient(server.address)
        created = stream.wait_for("session_created")
        assert created and created[-1]["details"]["session"] == "0x%x" % client.session_id
        assert client.create("/evt", b"x")[0] == 0
        assert stream.wait_for("slow_fsync"), "with fsync.warningthresholdms=0 every fsync is reported"

        intruder = RawClient(server.address)
        err, _, _ = intruder.call("auth", i32(0) + string("kerberos") + buf(b"x"), xid=-4)
        assert err == -115
        assert stream.wait_for("auth_failed")[-1]["details"]["scheme"] == "kerberos"

        doomed = RawClient(server.address, timeout_ms=1000)
        extra = []
        try:
            for _ in range(3):
                extra.append(RawClient(server.address))
        except (Closed, OSError):
            pass
        assert stream.wait_for("connection_rejected")[-1]["details"]["address"] == "127.0.0.1"
        for c in extra:
            c.sock.close()
        expired = stream.wait_for("session_expired")
        assert expired and expired[-1]["details"]["session"] == "0x%x" % doomed.session_id
        urllib.request.urlopen("http://127.0.0.1:%d/commands/set_trace_mask?traceMask=99" % server.admin_port).read()
        changed = stream.wait_for("configuration_changed")
        assert changed and changed[-1]["details"] == {"key": "traceMask", "old": "306", "new": "99"}

        server.terminate()
        assert stream.wait_for("server_stopping")
        # (server_stopping goes out as the process ends, so its webhook delivery is best effort.)
        for kind in ("session_created", "slow_fsync", "auth_failed", "connection_rejected", "session_expired",
                     "configuration_changed"):
            assert hooks.wait_for(kind), "webhook missed %s" % kind
    finally:
        server.stop()
        receiver.shutdown()


def test_throttling_events_and_nothing_lost():
    from durability_helpers import pipelined_sets
    server = Server("aviary", admin=True, extra_config="globalOutstandingLimit=5\n")
    stream = Collector()
    try:
        subscribe(server.admin_port, stream)
        time.sleep(0.3)
        c = RawClient(server.address)
        assert c.create("/flood", b"")[0] == 0
        replies = pipelined_sets(c, "/flood", 400)
        assert replies == list(range(1, 401)), "every request answered, in order"
        started = stream.wait_for("throttling_started")
        assert started and int(started[0]["details"]["outstanding"]) > 5
        assert stream.wait_for("throttling_stopped")
        assert c.get_data("/flood")[1][1]["version"] == 400
        c.close()
    finally:
        server.stop()
