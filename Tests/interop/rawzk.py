"""A minimal ZooKeeper wire client for tests: raw frames, every opcode, no hiding.

Used where kazoo has no API (addWatch, getEphemerals, TTL, ...) and to send bytes no
well-behaved client would send.
"""
import socket
import struct

OP = dict(notification=0, create=1, delete=2, exists=3, getData=4, setData=5, getACL=6, setACL=7,
          getChildren=8, sync=9, ping=11, getChildren2=12, check=13, multi=14, create2=15, reconfig=16,
          checkWatches=17, removeWatches=18, createContainer=19, deleteContainer=20, createTTL=21,
          multiRead=22, auth=100, setWatches=101, sasl=102, getEphemerals=103, getAllChildrenNumber=104,
          setWatches2=105, addWatch=106, whoAmI=107, closeSession=-11, error=-1)

OPEN_ACL = [(31, "world", "anyone")]


def i32(v): return struct.pack(">i", v)
def i64(v): return struct.pack(">q", v)
def boolean(v): return b"\x01" if v else b"\x00"


def buf(b):
    return i32(-1) if b is None else i32(len(b)) + b


def string(s):
    return buf(None if s is None else s.encode())


def strings(items):
    return i32(len(items)) + b"".join(string(s) for s in items)


def acls(items):
    return i32(len(items)) + b"".join(i32(p) + string(sch) + string(i) for p, sch, i in items)


class Reader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, n):
        if self.pos + n > len(self.data):
            raise ValueError("truncated")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def int(self): return struct.unpack(">i", self.take(4))[0]
    def long(self): return struct.unpack(">q", self.take(8))[0]
    def bool(self): return self.take(1) != b"\x00"

    def buffer(self):
        n = self.int()
        return None if n < 0 else self.take(n)

    def string(self):
        b = self.buffer()
        return None if b is None else b.decode()

    def strings(self):
        n = self.int()
        return [self.string() for _ in range(max(n, 0))]

    def stat(self):
        keys = ["czxid", "mzxid", "ctime", "mtime", "version", "cversion", "aversion",
                "ephemeralOwner", "dataLength", "numChildren", "pzxid"]
        kinds = "qqqqiiiqiiq"
        return {k: (self.long() if t == "q" else self.int()) for k, t in zip(keys, kinds)}

    def rest(self): return self.data[self.pos:]


class Closed(Exception):
    pass


class RawClient:
    def __init__(self, address, timeout_ms=10000, session_id=0, passwd=b"\x00" * 16, read_only=True,
                 last_zxid=0, connect=True):
        host, port = address.split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=10)
        self.xid = 0
        self.events = []
        if connect:
            self.handshake(timeout_ms, session_id, passwd, read_only, last_zxid)

    def handshake(self, timeout_ms=10000, session_id=0, passwd=b"\x00" * 16, read_only=True, last_zxid=0):
        body = i32(0) + i64(last_zxid) + i32(timeout_ms) + i64(session_id) + buf(passwd)
        if read_only is not None:
            body += boolean(read_only)
        self.send_frame(body)
        r = Reader(self.read_frame())
        self.connect_response = dict(protocolVersion=r.int(), timeout=r.int(), session_id=r.long(),
                                     passwd=r.buffer(), trailing=r.rest())
        self.session_id = self.connect_response["session_id"]
        self.passwd = self.connect_response["passwd"]
        return self.connect_response

    def send_frame(self, payload):
        self.sock.sendall(i32(len(payload)) + payload)

    def send_raw(self, data):
        self.sock.sendall(data)

    def read_exact(self, n):
        out = b""
        while len(out) < n:
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                raise Closed("connection closed after %d of %d bytes" % (len(out), n))
            out += chunk
        return out

    def read_frame(self):
        n = struct.unpack(">i", self.read_exact(4))[0]
        return self.read_exact(n)

    def read_reply(self):
        """The next frame as (xid, zxid, err, Reader over the body)."""
        r = Reader(self.read_frame())
        return r.int(), r.long(), r.int(), r

    def next_xid(self):
        self.xid += 1
        return self.xid

    def call(self, op, body=b"", xid=None):
        """Sends a request and returns (err, body Reader, zxid), queueing notifications."""
        xid = self.next_xid() if xid is None else xid
        self.send_frame(i32(xid) + i32(OP[op] if isinstance(op, str) else op) + body)
        while True:
            rxid, zxid, err, r = self.read_reply()
            if rxid == -1:
                self.events.append((r.int(), r.int(), r.string()))
                continue
            if rxid == -2 and xid != -2:
                continue
            assert rxid == xid, "reply xid %d for request %d" % (rxid, xid)
            return err, r, zxid

    def read_event(self, timeout=5):
        if self.events:
            return self.events.pop(0)
        self.sock.settimeout(timeout)
        try:
            rxid, _, _, r = self.read_reply()
        finally:
            self.sock.settimeout(10)
        assert rxid == -1, "expected a notification, got xid %d" % rxid
        return r.int(), r.int(), r.string()

    # Convenience wrappers: each returns (err, decoded or None)
    def create(self, path, data=b"", acl=OPEN_ACL, flags=0, op="create2", ttl=None):
        body = string(path) + buf(data) + acls(acl) + i32(flags)
        if op == "createTTL":
            body += i64(ttl if ttl is not None else -1)
        err, r, _ = self.call(op, body)
        if err:
            return err, None
        return err, (r.string(), r.stat() if op != "create" else None)

    def get_data(self, path, watch=False):
        err, r, _ = self.call("getData", string(path) + boolean(watch))
        return err, (None if err else (r.buffer(), r.stat()))

    def exists(self, path, watch=False):
        err, r, _ = self.call("exists", string(path) + boolean(watch))
        return err, (None if err else r.stat())

    def set_data(self, path, data, version=-1):
        err, r, _ = self.call("setData", string(path) + buf(data) + i32(version))
        return err, (None if err else r.stat())

    def delete(self, path, version=-1):
        err, _, _ = self.call("delete", string(path) + i32(version))
        return err

    def children(self, path, watch=False):
        err, r, _ = self.call("getChildren", string(path) + boolean(watch))
        return err, (None if err else sorted(r.strings()))

    def add_watch(self, path, mode):
        err, _, _ = self.call("addWatch", string(path) + i32(mode))
        return err

    def close(self):
        try:
            self.call("closeSession")
        except (Closed, OSError):
            pass
        self.sock.close()
