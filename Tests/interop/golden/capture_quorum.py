"""Records what Apache ZooKeeper 3.8 servers send to a peer, as golden bytes of the quorum
protocol: election headers and notifications, and the learner handshake, sync and broadcast.

Runs two real ZooKeeper servers (server.1 on 127.0.0.2, server.2 on 127.0.0.3) of a
three-member ensemble whose server.3 (127.0.0.4) is this script. It records the election
headers they dial it with, answers their election as a LOOKING peer, then, once they have a
leader, joins that leader as a follower: FOLLOWERINFO, ACKEPOCH, the sync, NEWLEADER and
UPTODATE ACKs, PING replies, and the PROPOSAL and COMMIT of a create. One line per message:

    INITIAL <hex> | NOTIFICATION <hex> | QP <type> <hex> (sent by ZooKeeper) | QPOUT <type> <hex> (sent by us)
    | SNAPSTREAM <zxid> <hex> (the raw tree after SNAP)

Run it again (python3 capture_quorum.py OUTPUT) to refresh
Tests/ZooKeeperProtocolTests/Fixtures/zookeeper-3.8-quorum.txt.
"""
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from servers import Ensemble  # noqa: E402

HOSTS = Ensemble.HOSTS
ME = 3


class Stream:
    """Buffered reads of exact byte counts from a socket."""

    def __init__(self, sock):
        self.sock, self.buffer = sock, b""
        self.recording = None

    def take(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("closed after %d of %d bytes" % (len(self.buffer), n))
            self.buffer += chunk
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        if self.recording is not None:
            self.recording.append(out)
        return out

    def int(self): return struct.unpack(">i", self.take(4))[0]
    def long(self): return struct.unpack(">q", self.take(8))[0]

    def buffer_field(self):
        n = self.int()
        return b"" if n < 0 else self.take(n)

    def quorum_packet(self):
        """Returns (type, zxid, data, raw bytes)."""
        start = len(self.buffer)
        raw = b""
        kind = self.take(4); raw += kind
        zxid = self.take(8); raw += zxid
        n = self.take(4); raw += n
        length = struct.unpack(">i", n)[0]
        data = None
        if length >= 0:
            data = self.take(length); raw += data
        count = self.take(4); raw += count
        for _ in range(max(0, struct.unpack(">i", count)[0])):
            for _ in range(2):
                m = self.take(4); raw += m
                raw += self.take(max(0, struct.unpack(">i", m)[0]))
        return struct.unpack(">i", kind)[0], struct.unpack(">q", zxid)[0], data, raw


def packet(kind, zxid, data=None, auth=None):
    out = struct.pack(">iq", kind, zxid)
    out += struct.pack(">i", -1) if data is None else struct.pack(">i", len(data)) + data
    out += struct.pack(">i", -1) if auth is None else struct.pack(">i", 0)
    return out


def main(output):
    lines = []
    lock = threading.Lock()

    def record(line):
        with lock:
            if line not in lines:
                lines.append(line)

    root = tempfile.mkdtemp(prefix="capture-quorum-")
    ensemble = Ensemble(root)
    quorum, election = ensemble.quorum, ensemble.election
    with open(ensemble.configs[ME]) as f:
        members = "".join(line for line in f if line.startswith("server."))
    processes = []
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((HOSTS[ME], election[ME]))
    listener.listen(8)
    stop = threading.Event()

    def accept_loop():
        listener.settimeout(0.5)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except socket.timeout:
                continue
            s = Stream(conn)
            try:
                version, sid, length = s.long(), s.long(), s.int()
                record("INITIAL " + (struct.pack(">qqi", version, sid, length) + s.take(length)).hex())
            except (EOFError, OSError):
                pass
            conn.close()  # a smaller sid dialed us: it expects us to dial back

    threading.Thread(target=accept_loop, daemon=True).start()
    try:
        processes = [ensemble.start_zookeeper(sid) for sid in (1, 2)]
        leader = ensemble.wait_for_leader((1, 2), timeout=60)
        if leader is None:
            raise RuntimeError("no leader elected; logs in %s" % root)
        # Election: dial each server as sid 3 (larger, so the connection stays) and look.
        for sid in (1, 2):
            conn = socket.create_connection((HOSTS[sid], election[sid]), timeout=10)
            address = ("%s:%d" % (HOSTS[ME], election[ME])).encode()
            conn.sendall(struct.pack(">qqi", -65536, ME, len(address)) + address)
            vote = struct.pack(">iqqqqi", 0, ME, 0, 1, 0, 2) + struct.pack(">i", len(members)) + members.encode()
            conn.sendall(struct.pack(">i", len(vote)) + vote)
            s = Stream(conn)
            conn.settimeout(5)
            try:
                for _ in range(3):
                    n = s.int()
                    record("NOTIFICATION " + s.take(n).hex())
            except (socket.timeout, EOFError):
                pass
            conn.close()
        # Learner: follow the leader.
        conn = socket.create_connection((HOSTS[leader], quorum[leader]), timeout=20)
        s = Stream(conn)

        def send(kind, zxid, data=None):
            raw = packet(kind, zxid, data)
            record("QPOUT %d %s" % (kind, raw.hex()))
            conn.sendall(raw)

        send(11, 0, struct.pack(">qiq", ME, 0x10000, 0))  # FOLLOWERINFO, acceptedEpoch 0
        new_epoch_zxid = None
        synced = False
        create_started = False
        deadline = time.time() + 30
        while time.time() < deadline:
            kind, zxid, data, raw = s.quorum_packet()
            record("QP %d %s" % (kind, raw.hex()))
            if kind == 17:  # LEADERINFO
                new_epoch_zxid = zxid
                send(18, 0, struct.pack(">i", 0))  # ACKEPOCH: lastLoggedZxid 0, currentEpoch 0
            elif kind == 15:  # SNAP: a raw snapshot follows
                s.recording = []
                for _ in range(s.int()):
                    s.long(); s.int()
                for _ in range(s.int()):
                    s.long()
                    for _ in range(max(0, s.int())):
                        s.int(); s.buffer_field(); s.buffer_field()
                while True:
                    path = s.buffer_field()
                    if path == b"/":
                        break
                    s.buffer_field(); s.long(); s.take(8 * 4 + 4 * 3 + 8 + 8)
                assert s.buffer_field() == b"BenWasHere"
                record("SNAPSTREAM %d %s" % (zxid, b"".join(s.recording).hex()))
                s.recording = None
            elif kind == 10:  # NEWLEADER
                send(3, new_epoch_zxid)
            elif kind == 12:  # UPTODATE
                send(3, new_epoch_zxid)
                synced = True
            elif kind == 5:  # PING: reply with no session touches (an empty buffer, never null)
                send(5, zxid, b"")
                if synced and not create_started:
                    create_started = True
                    threading.Thread(target=lambda: subprocess.run(
                        ["/usr/share/zookeeper/bin/zkCli.sh", "-server", ensemble.client_address(leader),
                         "create", "/golden", "quorum"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                        timeout=60), daemon=True).start()
            elif kind == 2:  # PROPOSAL: ACK it
                send(3, zxid)
            elif kind == 4 and create_started:
                if any(line.startswith("QP 4 ") for line in lines[:-1]) is False and data is None:
                    pass
                # A COMMIT after our ACKs: enough once one create has gone through.
                if sum(1 for line in lines if line.startswith("QP 2 ")) >= 2:
                    break
        conn.close()
    finally:
        stop.set()
        for p in processes:
            p.kill()
            p.wait()
        listener.close()
        shutil.rmtree(root, ignore_errors=True)
    with open(output, "w") as f:
        f.write("# What Apache ZooKeeper 3.8.0 servers send a peer (QP) and what that peer sent (QPOUT).\n")
        f.write("# Written by Tests/interop/golden/capture_quorum.py; election frames without their length.\n")
        for line in lines:
            f.write(line + "\n")
    print("%d messages written to %s" % (len(lines), output))


if __name__ == "__main__":
    main(sys.argv[1])
