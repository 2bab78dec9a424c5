"""Bad input gets ZooKeeper's answer, and no other session notices."""
import os
import random
import socket
import struct

import pytest
from rawzk import RawClient, Closed, i32, string, buf, acls, boolean, OPEN_ACL


@pytest.fixture
def bystander(address, base):
    """A session that must keep working while others misbehave."""
    c = RawClient(address)
    assert c.create(base, b"steady")[0] == 0
    yield c
    assert c.get_data(base)[1][0] == b"steady"
    c.close()


def closed(c):
    try:
        c.sock.settimeout(5)
        return c.sock.recv(1) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True


def test_oversized_frame_closes_only_that_connection(address, bystander):
    c = RawClient(address)
    c.send_raw(struct.pack(">i", 0x100000 + 16) + b"\x00" * 64)
    assert closed(c)


def test_negative_length_closes(address, bystander):
    c = RawClient(address)
    c.send_raw(struct.pack(">i", -5))
    assert closed(c)


def test_oversized_handshake_closes(address, bystander):
    s = socket.create_connection((address.split(":")[0], int(address.split(":")[1])))
    s.sendall(struct.pack(">i", 50 * 1024 * 1024))
    s.settimeout(5)
    assert s.recv(1) == b""


def test_garbage_handshake_closes(address, bystander):
    s = socket.create_connection((address.split(":")[0], int(address.split(":")[1])))
    s.sendall(struct.pack(">i", 3) + b"abc")
    s.settimeout(5)
    try:
        assert s.recv(1) == b""
    except ConnectionResetError:
        pass


def test_unknown_opcode_is_unimplemented(address, bystander):
    c = RawClient(address)
    err, _, zxid = c.call(4242, b"whatever")
    assert (err, zxid) == (-6, -1)
    assert closed(c), "then the connection closes, as ZooKeeper closes it"


def test_truncated_body_is_a_marshalling_error_or_close(address, bystander):
    c = RawClient(address)
    c.send_frame(i32(7) + i32(4) + i32(100) + b"/sh")
    try:
        xid, _, err, _ = c.read_reply()
        assert (xid, err) == (7, -5)
    except (Closed, ConnectionResetError):
        pass


def test_frame_without_header_closes(address, bystander):
    c = RawClient(address)
    c.send_frame(b"\x00\x01")
    assert closed(c)


# create checks the parent before the full path, as ZooKeeper's PrepRequestProcessor does:
# a path whose parent is missing answers NoNode even when the path is also malformed.
@pytest.mark.parametrize("path,create_error", [
    ("", -8), ("no-slash", -8), ("/trailing/", -101), ("//double", -8), ("/a/./b", -101),
    ("/a/../b", -101), ("/nul\u0000x", -8), ("/ctrl\u0001", -8), ("/.", -8), ("/..", -8),
    ("/zookeeper/", -8)])
def test_invalid_paths_are_bad_arguments(address, bystander, path, create_error):
    c = RawClient(address)
    assert c.create(path)[0] == create_error
    assert c.set_data(path, b"x")[0] == -8
    assert c.call("setACL", string(path) + acls(OPEN_ACL) + i32(-1))[0] == -8
    c.close()


def test_sequential_parent_path_may_end_in_slash(address, base, bystander):
    c = RawClient(address)
    err, (path, _) = c.create(base + "/", flags=2)
    assert err == 0 and path == base + "/0000000000"
    c.close()


def test_max_client_connections_per_address(server):
    from servers import Server
    own = Server(server.kind)
    try:
        clients, refused = [], 0
        for _ in range(33):
            try:
                clients.append(RawClient(own.address))
            except (Closed, OSError):
                refused += 1
        assert (len(clients), refused) == (30, 3)
        assert "Too many connections from /127.0.0.1 - max is 30" in own.log_text()
        clients.pop(0).close()
        import time
        for _ in range(20):  # the server frees the slot once it has seen the close
            try:
                clients.append(RawClient(own.address))
                break
            except (Closed, OSError):
                time.sleep(0.1)
        assert clients[-1].exists("/")[0] == 0, "a freed slot can be used again"
    finally:
        own.stop()


def test_four_letter_word_on_connect(address):
    from servers import four_letter
    assert four_letter(address, "ruok") == "imok"
    assert "Mode: standalone" in four_letter(address, "srvr")


def test_a_client_that_never_reads_cannot_grow_server_memory():
    """40,000 pipelined reads of a 100 KB znode, replies never read: about 4 GB if the server
    queued them all. It must stop reading from that client instead, and serve everyone else."""
    import time
    from servers import Server
    server = Server("aviary")
    try:
        c = RawClient(server.address)
        assert c.create("/big", b"x" * 100_000)[0] == 0
        request = i32(9) + i32(4) + string("/big") + boolean(False)
        frame = i32(len(request)) + request
        flood = RawClient(server.address)
        flood.sock.settimeout(3)
        try:
            for _ in range(400):
                flood.sock.sendall(frame * 100)
        except (socket.timeout, OSError):
            pass
        time.sleep(2)
        with open("/proc/%d/status" % server.process.pid) as f:
            rss_mb = next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) // 1024
        assert rss_mb < 500, "server RSS %d MB while a client does not read" % rss_mb
        assert c.get_data("/big")[0] == 0, "other sessions are served meanwhile"
        c.close()
        flood.sock.close()
    finally:
        server.stop()
