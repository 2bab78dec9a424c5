"""Records the frames Apache ZooKeeper 3.8 and its clients exchange, as golden bytes.

Starts a real ZooKeeper, puts a recording proxy in front of it, drives the Java client
(zkCli.sh) and kazoo through it, and writes one line per frame:

    CONNECT_REQ <hex> | CONNECT_RESP <hex> | REQ <opcode> <hex> | REPLY <opcode> <hex> | EVENT <hex>

Run it again (python3 capture.py OUTPUT) to refresh
Tests/ZooKeeperProtocolTests/Fixtures/zookeeper-3.8-frames.txt.
"""
import os
import socket
import struct
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from servers import Server, free_port  # noqa: E402

SPECIAL = {-2: 11, -4: 100, -8: 101}


class Recorder:
    def __init__(self):
        self.lines = []
        self.lock = threading.Lock()

    def add(self, line):
        with self.lock:
            if line not in self.lines:
                self.lines.append(line)


def frames(sock):
    buffer = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return
        buffer += chunk
        while len(buffer) >= 4:
            n = struct.unpack(">i", buffer[:4])[0]
            if len(buffer) < 4 + n:
                break
            yield buffer[:4 + n]
            buffer = buffer[4 + n:]


def pump(src, dst, on_frame):
    try:
        for frame in frames(src):
            on_frame(frame[4:])
            dst.sendall(frame)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def proxy(listen_port, target_port, recorder, stop):
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", listen_port))
    server.listen(16)
    server.settimeout(0.2)
    while not stop.is_set():
        try:
            client, _ = server.accept()
        except socket.timeout:
            continue
        upstream = socket.create_connection(("127.0.0.1", target_port))
        state = {"client_first": True, "server_first": True, "pending": {}}

        def from_client(payload, state=state):
            if state["client_first"]:
                state["client_first"] = False
                if payload[:4] in (b"ruok", b"srvr"):
                    return
                recorder.add("CONNECT_REQ " + payload.hex())
                return
            xid, op = struct.unpack(">ii", payload[:8])
            state["pending"][xid] = op
            recorder.add("REQ %d %s" % (op, payload.hex()))

        def from_server(payload, state=state):
            if state["server_first"]:
                state["server_first"] = False
                recorder.add("CONNECT_RESP " + payload.hex())
                return
            xid = struct.unpack(">i", payload[:4])[0]
            if xid == -1:
                recorder.add("EVENT " + payload.hex())
                return
            op = state["pending"].pop(xid, SPECIAL.get(xid))
            if op is not None:
                recorder.add("REPLY %d %s" % (op, payload.hex()))

        threading.Thread(target=pump, args=(client, upstream, from_client), daemon=True).start()
        threading.Thread(target=pump, args=(upstream, client, from_server), daemon=True).start()
    server.close()


ZKCLI_SCRIPT = """
create /golden hello
create -e /golden/eph e
create -s /golden/seq- s
create -c /golden/box
create -t 60000 /golden/ttl t
get -s /golden
get -w /golden
set /golden world
stat /golden
ls -w /golden
ls -s /golden
getAcl /golden
addauth digest user:pw
setAcl /golden auth:user:pw:cdrwa,world:anyone:r
getAcl /golden
addWatch /golden
addWatch -m PERSISTENT_RECURSIVE /golden/box
removewatches /golden
getEphemerals /golden
getAllChildrenNumber /golden
whoami
sync /golden
config
delete /golden/ttl
deleteall /golden
quit
"""


def drive(address):
    subprocess.run(["/usr/share/zookeeper/bin/zkCli.sh", "-server", address], input=ZKCLI_SCRIPT.encode(),
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
    from kazoo.client import KazooClient
    zk = KazooClient(hosts=address)
    zk.start()
    zk.create("/kz", b"k")
    t = zk.transaction()
    t.create("/kz/a", b"1")
    t.set_data("/kz", b"2")
    t.check("/kz", 1)
    t.delete("/kz/a")
    t.commit()
    t = zk.transaction()
    t.create("/kz/b")
    t.delete("/kz/missing")
    t.commit()
    zk.get_children("/kz", include_data=True)
    zk.exists("/kz/none")
    zk.delete("/kz")
    zk.stop()
    zk.close()


def main(output):
    zookeeper = Server("zookeeper")
    recorder, stop = Recorder(), threading.Event()
    port = free_port()
    thread = threading.Thread(target=proxy, args=(port, zookeeper.port, recorder, stop), daemon=True)
    thread.start()
    try:
        drive("127.0.0.1:%d" % port)
    finally:
        stop.set()
        thread.join()
        zookeeper.stop()
    with open(output, "w") as f:
        f.write("# Frames exchanged by Apache ZooKeeper 3.8.0 and its Java client (zkCli.sh) and kazoo.\n")
        f.write("# Written by Tests/interop/golden/capture.py; payloads without the 4-byte length.\n")
        for line in recorder.lines:
            f.write(line + "\n")
    print("%d frames" % len(recorder.lines))


if __name__ == "__main__":
    main(sys.argv[1])
