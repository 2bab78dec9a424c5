"""Logs: JSON lines into a rolling file in the log directory, the audit log with ZooKeeper's
fields, and the recent warnings and errors over HTTP."""
import glob
import json
import os
import urllib.request

from rawzk import RawClient, i32, string, buf, acls
from servers import Server


def read_lines(log_dir):
    lines = []
    for path in sorted(glob.glob(os.path.join(log_dir, "aviary.log*")), reverse=True):
        with open(path) as f:
            lines += [json.loads(line) for line in f if line.strip()]
    return lines


def audit_entries(lines):
    audit = [line["message"] for line in lines if line["logger"] == "org.apache.zookeeper.audit.Log4jAuditLogger"]
    return [dict(field.split("=", 1) for field in message.split("\t")) for message in audit]


def test_json_rolling_log_audit_and_error_ring(tmp_path):
    log_dir = str(tmp_path / "logs")
    server = Server("aviary", admin=True, extra_config="aviary.log.format=json\naviary.log.dir=%s\n"
                    "aviary.log.maxfilesize=4KB\naviary.log.maxbackupindex=3\naudit.enable=true\n" % log_dir)
    try:
        c = RawClient(server.address)
        assert c.create("/audited", b"x")[0] == 0
        assert c.create("/audited/e", b"", flags=1)[0] == 0
        assert c.set_data("/audited", b"y")[0] == 0
        assert c.call("setACL", string("/audited") + acls([(31, "world", "anyone")]) + i32(-1))[0] == 0
        assert c.delete("/nowhere") == -101
        intruder = RawClient(server.address)
        assert intruder.call("auth", i32(0) + string("kerberos") + buf(b"x"), xid=-4)[0] == -115
        entries = audit_entries(read_lines(log_dir))
        ops = [(e["operation"], e.get("znode"), e["result"]) for e in entries]
        assert ("setData", "/audited", "success") in ops and ("setAcl", "/audited", "success") in ops
        assert ("delete", "/nowhere", "failure") in ops
        created = next(e for e in entries if e.get("znode") == "/audited/e")
        assert created["znode_type"] == "ephemeral" and created["ip"] == "127.0.0.1" and created["user"] == "127.0.0.1"
        assert created["session"].startswith("0x") and created["acl"] == "world:anyone:cdrwa"
        for n in range(60):  # enough lines to roll the 4 KB file over
            assert c.create("/audited/n%02d" % n)[0] == 0
        c.close()

        files = sorted(glob.glob(os.path.join(log_dir, "aviary.log*")))
        assert os.path.join(log_dir, "aviary.log") in files
        assert os.path.join(log_dir, "aviary.log.1") in files, "the log rolled over"
        assert len(files) <= 4, "at most 3 backups are kept: %s" % files
        for path in files:
            assert os.path.getsize(path) <= 4096 + 1024
        lines = read_lines(log_dir)
        assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
        ops = [(e["operation"], e.get("znode"), e["result"]) for e in audit_entries(lines)]
        assert ("create", "/audited/n59", "success") in ops

        errors = json.loads(urllib.request.urlopen("http://127.0.0.1:%d/errors" % server.admin_port).read())
        assert any("kerberos" in e["details"]["message"] for e in errors)
        assert all(e["kind"] in ("warning", "error", "critical") for e in errors)
    finally:
        server.stop()


def test_a_closed_standard_error_does_not_stop_the_server():
    """Logging to a pipe nobody reads any more (a closed terminal, a dead log shipper)."""
    import subprocess
    import time
    from servers import aviary_binary
    server = Server("aviary", start=False)
    try:
        server.process = subprocess.Popen([aviary_binary(), "server", server.config_path], stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE, cwd=server.dir)
        server.wait_ready()
        server.process.stdout.close()
        server.process.stderr.close()
        for _ in range(20):  # each failed auth logs a warning
            c = RawClient(server.address)
            c.call("auth", i32(0) + string("nosuchscheme") + buf(b"x"), xid=-4)
            c.sock.close()
        time.sleep(0.5)
        assert server.process.poll() is None, "the server died writing its log"
        c = RawClient(server.address)
        assert c.exists("/")[0] == 0
        c.close()
        metrics = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % server.metrics_port, timeout=10).read().decode()
        lost = [line for line in metrics.splitlines() if line.startswith("aviary_log_write_failures ")]
        assert lost and float(lost[0].split()[1]) > 0, lost
    finally:
        server.stop()
