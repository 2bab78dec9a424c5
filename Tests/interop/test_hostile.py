"""A hostile client's frames, each sent to Aviary and to Apache ZooKeeper 3.8: same answer,
no crash, and a bystander session served throughout."""
import glob
import os
import socket
import subprocess
import time

import pytest
from rawzk import RawClient, Closed, Reader, OP, OPEN_ACL, i32, i64, boolean, buf, string, strings, acls
from servers import four_letter, zookeeper_classpath

HERE = os.path.dirname(os.path.abspath(__file__))


def header(kind, done=False):
    return i32(kind) + boolean(done) + i32(-1)


END = header(-1, True)


def op(kind, body):
    return header(OP[kind]) + body


def create_op(path, data=b"", flags=0):
    return op("create", string(path) + buf(data) + acls(OPEN_ACL) + i32(flags))


@pytest.fixture
def bystander(address, base):
    c = RawClient(address)
    assert c.create(base, b"steady")[0] == 0
    yield c
    assert c.get_data(base)[1][0] == b"steady", "the bystander session is still served"
    c.close()


def closed_after(c, timeout=5):
    """True once the server has closed the connection (nothing more to read)."""
    c.sock.settimeout(timeout)
    try:
        return c.sock.recv(1) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def connect_bytes(timeout_ms=10000):
    return i32(0) + i64(0) + i32(timeout_ms) + i64(0) + buf(b"\0" * 16) + boolean(False)


# --- multi ------------------------------------------------------------------------------

def test_deeply_nested_multi_is_a_marshalling_error(address, bystander):
    """30,000 levels of multi inside multi (540 KB, under jute.maxbuffer) crashed Aviary."""
    levels = 30000
    body = header(OP["multi"]) * levels + END * (levels + 1)
    for kind in ("multi", "multiRead"):
        c = RawClient(address)
        err, _, _ = c.call(kind, body)
        assert err == -5
        c.close()


def test_an_op_zookeeper_refuses_inside_a_multi_fails_the_whole_request(address, base, bystander):
    c = RawClient(address)
    for refused in ("getACL", "exists", "sync", "closeSession", "multi", "setACL"):
        body = create_op(base + "/first") + op(refused, string(base)) + END
        err, _, _ = c.call("multi", body)
        assert err == -5, refused
        assert c.exists(base + "/first")[0] == -101, "nothing of a refused multi is applied"
    c.close()


def test_reads_and_writes_do_not_mix_in_one_multi(address, base, bystander):
    c = RawClient(address)
    mixed = create_op(base + "/m") + op("getData", string(base) + boolean(False)) + END
    assert c.call("multi", mixed)[0] == -5
    assert c.call("multiRead", mixed)[0] == -5
    assert c.exists(base + "/m")[0] == -101
    c.close()


def test_a_malformed_multi_takes_a_zxid_in_session_order(address, base, bystander):
    c = RawClient(address)
    before = c.exists(base)[1]["mzxid"]
    c.send_frame(i32(1) + i32(OP["setData"]) + string(base) + buf(b"steady") + i32(-1))
    c.send_frame(i32(2) + i32(OP["multi"]) + header(OP["multi"]) + END + END)
    first, second = c.read_reply(), c.read_reply()
    assert (first[0], first[2]) == (1, 0) and (second[0], second[2]) == (2, -5)
    assert second[1] > first[1] > before, "the error transaction takes the next zxid, as ZooKeeper's does"
    c.close()


@pytest.mark.parametrize("count", [19, 100, 1000])
def test_large_multis_are_bound_by_the_frame_only(address, base, bystander, count):
    c = RawClient(address)
    checks = b"".join(op("check", string(base) + i32(-1)) for _ in range(count))
    err, r, _ = c.call("multi", checks + END)
    assert err == 0
    reads = b"".join(op("getData", string(base) + boolean(False)) for _ in range(count))
    err, r, _ = c.call("multiRead", reads + END)
    assert err == 0
    c.close()


def test_kazoo_transaction_of_100_creates(zk, base):
    zk.create(base)
    t = zk.transaction()
    for n in range(100):
        t.create("%s/n%03d" % (base, n), b"x")
    results = t.commit()
    assert len(results) == 100 and all(isinstance(r, str) for r in results), results[:3]
    assert len(zk.get_children(base)) == 100


def test_reads_inside_multi_read_set_no_watch(address, base, bystander):
    c = RawClient(address)
    assert c.create(base + "/w")[0] == 0
    assert c.call("multiRead", op("getData", string(base + "/w") + boolean(True)) + END)[0] == 0
    other = RawClient(address)
    assert other.set_data(base + "/w", b"changed")[0] == 0
    assert c.exists("/")[0] == 0
    assert c.events == [], "ZooKeeper's multiRead drops the watch flag"
    other.close()
    c.close()


# --- internal opcodes and unknown requests ---------------------------------------------

def test_clients_cannot_delete_a_container_its_acl_protects(address, base, bystander):
    c = RawClient(address)
    no_delete = [(1 | 4, "world", "anyone")]  # read and create, not delete
    assert c.create(base + "/p", acl=no_delete)[0] == 0
    assert c.create(base + "/p/box", acl=no_delete, flags=4, op="createContainer")[0] == 0
    assert c.delete(base + "/p/box") == -102, "an ordinary delete is refused by the parent's ACL"
    err, _, _ = c.call("deleteContainer", string(base + "/p/box"))
    assert err == -8
    assert c.exists(base + "/p/box")[0] == 0, "and the container stays"
    c.close()


@pytest.mark.parametrize("opcode", [4242, 0])
def test_an_opcode_clients_may_not_send_is_unimplemented_then_closed(address, bystander, opcode):
    c = RawClient(address)
    c.send_frame(i32(5) + i32(opcode) + b"whatever")
    xid, zxid, err, _ = c.read_reply()
    assert (xid, zxid, err) == (5, -1, -6)
    assert closed_after(c)


def test_create_session_from_a_client(server, address, bystander):
    """ZooKeeper runs a client's createSession opcode through its pipeline and answers with a
    second ConnectResponse; Aviary, by design, treats it as an opcode clients may not send."""
    c = RawClient(address)
    c.send_frame(i32(5) + i32(-10) + i32(30000))
    frame = c.read_frame()
    if server.kind == "aviary":
        r = Reader(frame)
        assert (r.int(), r.long(), r.int()) == (5, -1, -6)
        assert closed_after(c)
    # Both servers survive it: the bystander fixture checks its session is still served.


def test_a_second_connect_request_is_unimplemented_then_closed(address, bystander):
    c = RawClient(address)
    c.send_frame(connect_bytes())
    xid, zxid, err, _ = c.read_reply()
    assert (zxid, err) == (-1, -6)
    assert closed_after(c)


# --- ordering ----------------------------------------------------------------------------

def test_requests_pipelined_behind_the_handshake_are_answered_after_it(address, bystander):
    host, port = address.split(":")
    c = RawClient(address, connect=False)
    auth = i32(-4) + i32(OP["auth"]) + i32(0) + string("digest") + buf(b"user:pw")
    get = i32(1) + i32(OP["getData"]) + string("/") + boolean(False)
    c.send_raw(b"".join(i32(len(frame)) + frame for frame in (connect_bytes(), auth, get)))
    r = Reader(c.read_frame())
    assert r.int() == 0 and r.int() == 10000, "the ConnectResponse comes first"
    assert r.long() != 0
    assert c.read_reply()[0::2][:2] == (-4, 0)
    xid, _, err, _ = c.read_reply()
    assert (xid, err) == (1, 0)
    c.sock.close()


def test_close_session_pipelined_with_more_requests_is_answered(address, bystander):
    c = RawClient(address)
    c.send_raw(i32(8) + i32(3) + i32(OP["closeSession"]) + i32(17) + i32(4) + i32(OP["getData"]) + string("/") + boolean(False))
    xid, _, err, _ = c.read_reply()
    assert (xid, err) == (3, 0)
    with pytest.raises((Closed, ConnectionResetError)):
        c.read_reply()


@pytest.mark.timeout(60)
def test_a_slow_handshake_is_not_cut_off_while_bytes_arrive(address):
    """ZooKeeper restarts a connection's idle clock on every read (10 s without bytes)."""
    c = RawClient(address, connect=False)
    frame = i32(len(connect_bytes())) + connect_bytes()
    started = time.time()
    for n, byte in enumerate(frame):
        c.send_raw(bytes([byte]))
        if n < 12:
            time.sleep(1.1)
    assert time.time() - started > 12
    r = Reader(c.read_frame())
    assert r.int() == 0 and r.int() == 10000
    c.sock.close()


# --- four-letter words -------------------------------------------------------------------

def test_a_word_followed_by_more_bytes_is_answered(address):
    assert four_letter(address, b"ruok\n\n\n\n\n\n\n\n") == "imok"
    assert four_letter(address, b"ruok" + i32(5) + b"\0" * 5) == "imok"
    assert "Zookeeper version" in four_letter(address, b"srvr\r\n")


# --- the rest of the catalogue -----------------------------------------------------------

def test_the_empty_path_reads_the_root(address, bystander):
    c = RawClient(address)
    assert c.get_data("") == c.get_data("/")
    assert c.exists("") == c.exists("/")
    assert c.children("") == c.children("/")
    assert c.create("")[0] == -8 and c.set_data("", b"x")[0] == -8
    c.close()


@pytest.mark.parametrize("kind,body", [
    ("getData", i32(-1) + boolean(False)),
    ("exists", i32(-1) + boolean(False)),
    ("getChildren", i32(-1) + boolean(False)),
    ("create", i32(-1) + buf(b"") + acls(OPEN_ACL) + i32(0)),
    ("delete", i32(-1) + i32(-1)),
    ("setData", i32(-1) + buf(b"") + i32(-1)),
])
def test_a_null_path_is_a_marshalling_error(address, bystander, kind, body):
    """ZooKeeper fails most of these on a null pointer (-5) but validates setData's path (-8)."""
    c = RawClient(address)
    assert c.call(kind, body)[0] == (-8 if kind == "setData" else -5)
    assert c.exists("/")[0] == 0, "the session goes on"
    c.close()


def test_negative_vector_counts_read_as_empty(address, base, bystander):
    c = RawClient(address)
    err, _, _ = c.call("create", string(base + "/neg") + buf(b"") + i32(-2) + i32(0))
    assert err == -114, "an empty ACL list is InvalidACL"
    err, _, _ = c.call("setWatches", i64(0) + i32(-5) + strings([]) + strings([]))
    assert err == 0
    c.close()


@pytest.mark.parametrize("ip", ["::1", ":::1", "127.0.0.1/33", "300.0.0.1", "127.0.0"])
def test_ip_acls_zookeeper_cannot_read_are_invalid(address, base, bystander, ip):
    c = RawClient(address)
    assert c.create(base + "/ip", acl=[(31, "ip", ip)])[0] == -114
    c.close()


def test_null_digest_credentials_close_the_connection(address, bystander):
    c = RawClient(address)
    c.send_frame(i32(-4) + i32(OP["auth"]) + i32(0) + string("digest") + i32(-1))
    try:
        xid, _, err, _ = c.read_reply()
        assert err == -115
    except (Closed, ConnectionResetError):
        pass
    assert closed_after(c)


def test_set_watches_is_answered_with_its_own_xid(address, base, bystander):
    c = RawClient(address)
    relative = c.exists(base)[1]["pzxid"]
    c.send_frame(i32(77) + i32(OP["setWatches"]) + i64(relative + 1000) + strings([base]) + strings([]) + strings([]))
    xid, _, err, _ = c.read_reply()
    assert (xid, err) == (77, 0)
    c.close()


# --- a real client -----------------------------------------------------------------------

def test_java_netty_client_with_auth_at_connect(address, base):
    """Curator's .authorization(): addAuthInfo right after new ZooKeeper(), on the Netty socket."""
    classpath = zookeeper_classpath() + ":" + ":".join(sorted(glob.glob("/usr/share/java/netty-*[a-z].jar")))
    result = subprocess.run(
        ["java", "-Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty", "-cp", classpath,
         os.path.join(HERE, "java", "AuthAtConnect.java"), address, base],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    out = result.stdout.decode(errors="replace")
    assert result.returncode == 0 and "OK secret" in out, out[-3000:]
