"""Durability: no acknowledged write is lost to SIGKILL, torn logs and damaged snapshots
are survived, and the data directory moves between Aviary and Apache ZooKeeper both ways."""
import glob
import os
import random
import shutil
import subprocess
import tempfile
import threading
import time

import pytest
from rawzk import RawClient, Closed, i32, string, buf, acls, OPEN_ACL
from servers import Server, zookeeper_classpath, SUPER_PASSWORD


def data_files(data_dir, prefix):
    """The `prefix.<zxid>` files of a data directory, oldest first (zxids are hex of any
    length, so name order is not zxid order)."""
    paths = glob.glob(os.path.join(data_dir, "version-2", prefix + ".*"))
    return sorted(paths, key=lambda p: int(p.rsplit(".", 1)[1], 16))

FLAG_SEQUENTIAL = 2


def pipelined_creates(client, prefix, values, start_xid):
    """Sends creates without waiting, then collects replies: returns the acknowledged ones."""
    frames = b""
    for n, value in enumerate(values):
        payload = i32(start_xid + n) + i32(1) + string(prefix) + buf(value) + acls(OPEN_ACL) + i32(FLAG_SEQUENTIAL)
        frames += i32(len(payload)) + payload
    client.send_raw(frames)
    acked = []
    for n, value in enumerate(values):
        xid, zxid, err, r = client.read_reply()
        assert xid == start_xid + n and err == 0
        acked.append((r.string(), value, zxid))
    return acked


@pytest.mark.parametrize("kind,kills", [("aviary", 25), ("zookeeper", 4)])
def test_sigkill_loses_no_acknowledged_write(kind, kills):
    server = Server(kind, extra_config="snapCount=200\n")
    acknowledged, names, highest_zxid = [], set(), 0
    rng = random.Random(os.environ.get("KILL_SEED", str(random.randrange(1 << 30))))
    try:
        setup = RawClient(server.address)
        assert setup.create("/crash")[0] == 0
        setup.close()
        for round_number in range(kills):
            client = RawClient(server.address)
            killer = threading.Timer(rng.uniform(0.05, 0.6), server.kill)
            killer.start()
            xid = 1
            try:
                while True:
                    batch = [b"%d-%d" % (round_number, xid + n) for n in range(rng.randint(1, 30))]
                    for path, value, zxid in pipelined_creates(client, "/crash/n-", batch, xid):
                        assert path not in names, "sequential name %s handed out twice" % path
                        assert zxid > highest_zxid, "zxid went backwards: 0x%x after 0x%x" % (zxid, highest_zxid)
                        names.add(path)
                        highest_zxid = zxid
                        acknowledged.append((path, value))
                    xid += len(batch)
            except (Closed, OSError):
                pass
            killer.join()
            server.process.wait()
            try:
                server.start()
            except RuntimeError as error:
                # The reference's own recovery bug: a SIGKILL while ZooKeeper 3.8 writes a
                # snapshot or log header can leave a file it then cannot read (EOFException),
                # and it refuses to start. Seen on a loaded machine; nothing to compare then.
                if kind == "zookeeper" and "EOFException" in str(error):
                    pytest.skip("Apache ZooKeeper could not restart after SIGKILL (EOFException reading its own files)")
                raise
            checker = RawClient(server.address)
            err, children = checker.children("/crash")
            assert err == 0
            present = set("/crash/" + c for c in children)
            missing = [p for p, _ in acknowledged if p not in present]
            assert not missing, "round %d lost %d acknowledged writes, e.g. %s" % (round_number, len(missing), missing[:3])
            for path, value in rng.sample(acknowledged, min(20, len(acknowledged))):
                assert checker.get_data(path)[1][0] == value
            checker.close()
        assert len(acknowledged) > kills, "the load was too light to mean anything"
    finally:
        server.stop()


def build_directory(kind, count, extra=""):
    """A data directory holding `count` znodes written through one server run (killed)."""
    server = Server(kind, extra_config="snapCount=100000\n" + extra)
    client = RawClient(server.address)
    for n in range(count):
        assert client.create("/k%03d" % n, b"value-%d" % n)[0] == 0
    server.kill()
    return server


def present_prefix(address, count):
    c = RawClient(address)
    err, children = c.children("/")
    c.close()
    assert err == 0
    present = sorted(x for x in children if x.startswith("k"))
    expected = ["k%03d" % n for n in range(len(present))]
    assert present == expected, "the znodes left must be the first ones written"
    return len(present)


def test_torn_log_tails_are_cut_back_to_whole_records():
    source = build_directory("aviary", 40)
    try:
        log = data_files(source.data_dir, "log")[-1]
        with open(log, "rb") as f:
            content = f.read()
        used = len(content.rstrip(b"\x00"))
        with open(log, "r+b") as f:
            f.truncate(used)  # drop the preallocated zeros so that copies are cheap
        offsets = sorted(set(list(range(16, used, max(1, used // 25))) + [used - 1]))
        for damage in ("truncate", "zero", "flip"):
            for offset in offsets:
                directory = tempfile.mkdtemp(prefix="torn-")
                shutil.copytree(source.data_dir, os.path.join(directory, "data"))
                damaged = os.path.join(directory, "data", "version-2", os.path.basename(log))
                with open(damaged, "r+b") as f:
                    if damage == "truncate":
                        f.truncate(offset)
                    elif damage == "zero":
                        f.seek(offset)
                        f.write(b"\x00" * 64)
                        f.seek(offset + 4096)
                        f.write(b"\x07")
                    else:
                        f.seek(offset)
                        byte = f.read(1)
                        f.seek(offset)
                        f.write(bytes([byte[0] ^ 0x5A]))
                server = Server("aviary", data_dir=os.path.join(directory, "data"))
                try:
                    kept = present_prefix(server.address, 40)
                    assert kept < 40, (damage, offset)
                    if damage != "truncate":
                        # A cut exactly between records leaves nothing to drop; any other
                        # damage leaves bytes behind that are reported.
                        assert "cut back to offset" in server.run_log(), (damage, offset)
                finally:
                    server.stop()
                    shutil.rmtree(directory, ignore_errors=True)
    finally:
        source.stop()


def test_damaged_snapshot_falls_back_to_an_older_one():
    server = Server("aviary", extra_config="snapCount=100000\n")
    try:
        c = RawClient(server.address)
        for n in range(10):
            assert c.create("/k%03d" % n, b"first")[0] == 0
        server.kill()
        server.start()  # writes a snapshot holding the first ten
        c = RawClient(server.address)
        for n in range(10, 20):
            assert c.create("/k%03d" % n, b"second")[0] == 0
        server.kill()
        snapshots = data_files(server.data_dir, "snapshot")
        newest = snapshots[-1]
        with open(newest, "rb") as f:
            original = f.read()
        for offset in range(0, len(original), max(1, len(original) // 25)):
            with open(newest, "wb") as f:
                f.write(original[:offset] + bytes([original[offset] ^ 0xFF]) + original[offset + 1:])
            server.start()
            assert present_prefix(server.address, 20) == 20
            assert "skipped %s" % newest in server.run_log()
            server.kill()
            for extra in glob.glob(os.path.join(server.data_dir, "version-2", "snapshot.*")):
                if extra not in snapshots:
                    os.unlink(extra)
    finally:
        server.stop()


def tree_dump(address):
    """Every znode under / with its data and the stat fields that must carry over."""
    c = RawClient(address)
    assert c.call("auth", i32(0) + string("digest") + buf(SUPER_PASSWORD.encode()), xid=-4)[0] == 0
    out = {}

    def walk(path):
        err, (data, stat) = c.get_data(path)
        assert err == 0
        out[path] = (data, {k: stat[k] for k in ("czxid", "mzxid", "pzxid", "version", "cversion", "aversion",
                                                  "numChildren", "ephemeralOwner")})
        err, children = c.children(path)
        for child in children:
            walk(("" if path == "/" else path) + "/" + child)
    walk("/")
    c.close()
    out.pop("/zookeeper/config", None)
    return out


def populate(address):
    c = RawClient(address)
    assert c.create("/app", b"root")[0] == 0
    for n in range(30):
        assert c.create("/app/seq-", b"%d" % n, flags=FLAG_SEQUENTIAL)[0] == 0
    assert c.set_data("/app", b"changed")[0] == 0
    assert c.delete("/app/seq-0000000003") == 0
    assert c.create("/app/eph", b"e", flags=1)[0] == 0
    assert c.create("/locked", b"x", acl=[(31, "digest", "u:abc=")])[0] == 0
    assert c.call("setACL", string("/app") + acls([(1, "world", "anyone"), (31, "ip", "127.0.0.1")]) + i32(0))[0] == 0
    return c


@pytest.mark.parametrize("writer,reader", [("zookeeper", "aviary"), ("aviary", "zookeeper")])
def test_data_directory_moves_between_servers(writer, reader):
    first = Server(writer, extra_config="snapCount=20\n")
    client = populate(first.address)
    session = client.session_id
    time.sleep(0.5)
    expected = tree_dump(first.address)
    first.kill()
    second = Server(reader, data_dir=first.data_dir)
    try:
        assert tree_dump(second.address) == expected
        # The live session came along: it can re-attach and still owns its ephemeral.
        again = RawClient(second.address, session_id=session, passwd=client.passwd)
        assert again.session_id == session
        assert again.exists("/app/eph")[1]["ephemeralOwner"] == session
        assert again.create("/app/after-move", b"")[0] == 0
        again.close()
    finally:
        second.stop()
        first.stop()


def test_zookeeper_tools_read_aviary_files():
    server = Server("aviary", extra_config="snapCount=20\n")
    try:
        populate(server.address).close()
        server.terminate()
        server.start()
        server.terminate()
        classpath = zookeeper_classpath() + ":/usr/share/java/commons-cli.jar"
        snapshot = data_files(server.data_dir, "snapshot")[-1]
        out = subprocess.run(["java", "-cp", classpath, "org.apache.zookeeper.server.SnapshotFormatter", snapshot],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        assert "/app/seq-0000000029" in out.stdout and "Last zxid" in out.stdout
        logs = data_files(server.data_dir, "log")
        seen = ""
        for log in logs:
            out = subprocess.run(["java", "-cp", classpath, "org.apache.zookeeper.server.persistence.TxnLogToolkit", log],
                                 capture_output=True, text=True, timeout=60)
            assert out.returncode == 0, out.stderr
            seen += out.stdout
        assert "createSession" in seen and "create2 /app/seq-0000000000" in seen and "setACL" in seen
    finally:
        server.stop()


def test_data_tools_on_zookeepers_files():
    import json
    from servers import aviary_binary
    server = Server("zookeeper", extra_config="snapCount=20\n")
    try:
        populate(server.address).close()
        server.kill()
        server.start()  # more snapshots and logs
        populate_more = RawClient(server.address)
        for n in range(40):
            assert populate_more.create("/more-%d" % n)[0] == 0
        server.kill()
        directory = os.path.join(server.data_dir, "version-2")
        aviary = aviary_binary()
        logs = data_files(server.data_dir, "log")
        seen = []
        for log in logs:
            out = subprocess.run([aviary, "data", "log", "--json", log], capture_output=True, text=True)
            assert out.returncode == 0, out.stdout + out.stderr
            seen += json.loads(out.stdout)["transactions"]
        assert any(t["type"] == "create2" and t.get("path") == "/app/seq-0000000029" for t in seen)
        assert any(t["type"] == "setACL" for t in seen)
        # The newest whole snapshot: SIGKILL may have caught ZooKeeper writing one in the
        # background, which then lacks the closing marker (verify below names such a file).
        def sealed(path):
            with open(path, "rb") as f:
                return os.path.getsize(path) >= 5 and f.seek(-5, os.SEEK_END) >= 0 and f.read() == b"\0\0\0\x01/"
        snapshot = [s for s in data_files(server.data_dir, "snapshot") if sealed(s)][-1]
        out = subprocess.run([aviary, "data", "snapshot", "--json", snapshot], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        assert "/zookeeper/quota" in [n["path"] for n in json.loads(out.stdout)["nodes"]]
        out = subprocess.run([aviary, "data", "verify", server.data_dir], capture_output=True, text=True)
        # SIGKILL may catch ZooKeeper writing a snapshot in the background: verify then names
        # that partial file (exit 2) and recovers from the one before.
        assert "ok:" in out.stdout and (out.returncode == 0 or "skipped" in out.stdout), out.stdout
        before = len(os.listdir(directory))
        out = subprocess.run([aviary, "data", "purge", server.data_dir, "--count", "3"], capture_output=True, text=True)
        assert out.returncode == 0 and len(os.listdir(directory)) < before, out.stdout
        out = subprocess.run([aviary, "data", "verify", server.data_dir], capture_output=True, text=True)
        assert "ok:" in out.stdout, "still recoverable after purge: " + out.stdout
        with open(logs[-1], "r+b") as f:
            f.seek(40)
            f.write(b"\xff\xee")
        out = subprocess.run([aviary, "data", "verify", server.data_dir], capture_output=True, text=True)
        assert out.returncode == 2 and "cut back to offset" in out.stdout, out.stdout
    finally:
        server.stop()
