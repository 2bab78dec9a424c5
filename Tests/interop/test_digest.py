"""ZooKeeper's tree digest: Aviary computes the same digest as Apache ZooKeeper for the same
tree, and `hash` logs it every 128 zxids as ZooKeeper does."""
import glob
import json
import os
import re
import struct
import subprocess

from kazoo.security import make_digest_acl
from rawzk import RawClient
from servers import Server, aviary_binary, four_letter


def newest_sealed_snapshot(data_dir):
    paths = glob.glob(os.path.join(data_dir, "version-2", "snapshot.*"))
    for path in sorted(paths, key=lambda p: int(p.rsplit(".", 1)[1], 16), reverse=True):
        with open(path, "rb") as f:
            f.seek(-5, os.SEEK_END)
            if f.read() == b"\0\0\0\x01/":
                return path
    raise AssertionError("no sealed snapshot in %s" % data_dir)


def stored_digest(path):
    """ZooKeeper writes a ZxidDigest (zxid, version, digest) and a second seal after the tree."""
    with open(path, "rb") as f:
        f.seek(-33, os.SEEK_END)
        zxid, version, digest = struct.unpack(">qiq", f.read(20))
    return zxid, version, digest


def test_aviary_computes_zookeepers_digest_of_a_zookeeper_snapshot():
    server = Server("zookeeper")
    try:
        from kazoo.client import KazooClient
        zk = KazooClient(hosts=server.address)
        zk.start(timeout=15)
        zk.create("/d", b"top")
        zk.create("/d/seq-", b"s", sequence=True)
        zk.create("/d/seq-", b"", sequence=True)
        zk.create("/d/empty")
        zk.set("/d", b"changed")
        zk.set_acls("/d/empty", [make_digest_acl("u", "p", all=True)])
        zk.delete("/d/seq-0000000001")
        t = zk.transaction()
        t.create("/d/m1", b"x" * 300)
        t.set_data("/d/m1", b"y")
        t.commit()
        zk.create("/unicode-\u00e9", "\u00fc".encode())
        raw = RawClient(server.address)
        assert raw.create("/d/box", b"c", flags=4, op="createContainer")[0] == 0
        assert raw.create("/d/box/in")[0] == 0
        raw.close()
        zk.stop()
        zk.close()
        server.terminate()
        server.start()  # ZooKeeper replays its log and writes a snapshot with the digest
        server.terminate()
        snapshot = newest_sealed_snapshot(server.data_dir)
        zxid, version, digest = stored_digest(snapshot)
        assert version == 2 and digest != 0, (zxid, version, digest)
        out = subprocess.run([aviary_binary(), "data", "snapshot", "--json", snapshot], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)["digest"] == digest
    finally:
        server.stop()


def test_hash_logs_a_digest_every_128_zxids(address):
    c = RawClient(address)
    path = "/hash-%d" % os.getpid()
    c.create(path)
    for n in range(130):
        assert c.set_data(path, b"%d" % n)[0] == 0
    lines = four_letter(address, "hash").splitlines()
    assert lines, "no digest logged after 130 writes"
    for line in lines:
        m = re.fullmatch(r"([0-9a-f]+): (-?\d+)", line)
        assert m, line
        assert int(m.group(1), 16) % 128 == 0
    c.close()
