"""Sessions: negotiation, re-attach, passwords, expiry and the read-only byte."""
import threading
import time

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import SessionExpiredError
from rawzk import RawClient, Closed
from servers import TICK_MS


def test_timeout_is_negotiated_into_bounds(address):
    low = RawClient(address, timeout_ms=1)
    assert low.connect_response["timeout"] == 2 * TICK_MS
    high = RawClient(address, timeout_ms=10**9)
    assert high.connect_response["timeout"] == 20 * TICK_MS
    mid = RawClient(address, timeout_ms=3000)
    assert mid.connect_response["timeout"] == 3000
    for c in (low, high, mid):
        assert c.connect_response["protocolVersion"] == 0
        assert len(c.connect_response["passwd"]) == 16
        c.close()


def test_read_only_byte_answered_in_kind(address):
    with_byte = RawClient(address, read_only=False)
    assert with_byte.connect_response["trailing"] == b"\x00"
    without_byte = RawClient(address, read_only=None)
    assert without_byte.connect_response["trailing"] == b""
    assert without_byte.exists("/")[0] == 0
    with_byte.close()
    without_byte.close()


def test_reattach_from_new_connection_keeps_ephemerals(address, base):
    first = RawClient(address, timeout_ms=6000)
    assert first.create(base)[0] == 0
    assert first.create(base + "/eph", flags=1)[0] == 0
    second = RawClient(address, timeout_ms=6000, session_id=first.session_id, passwd=first.passwd,
                       last_zxid=0)
    assert second.session_id == first.session_id
    assert second.connect_response["timeout"] == 6000
    with pytest.raises((Closed, OSError)):
        first.exists("/")
    err, stat = second.exists(base + "/eph")
    assert err == 0 and stat["ephemeralOwner"] == first.session_id
    second.close()
    checker = RawClient(address)
    assert checker.exists(base + "/eph")[0] == -101
    checker.close()


def test_wrong_password_is_refused(address):
    good = RawClient(address)
    bad_password = bytes(16) if good.passwd != bytes(16) else b"\x01" * 16
    bad = RawClient(address, session_id=good.session_id, passwd=bad_password)
    assert bad.connect_response["timeout"] == 0
    assert bad.connect_response["session_id"] == 0
    with pytest.raises((Closed, OSError)):
        bad.read_frame()
    # Apache ZooKeeper drops the owner's connection when anyone presents its session id;
    # Aviary leaves it alone. Either way the session itself survives.
    owner = RawClient(address, session_id=good.session_id, passwd=good.passwd)
    assert owner.session_id == good.session_id
    assert owner.exists("/")[0] == 0
    owner.close()


def test_unknown_session_is_expired(address):
    ghost = RawClient(address, session_id=0x7ead_beef_0000_0001, passwd=b"\x00" * 16)
    assert ghost.connect_response["timeout"] == 0


def test_client_ahead_of_server_is_refused(address):
    with pytest.raises((Closed, OSError)):
        RawClient(address, last_zxid=1 << 60)


def test_expiry_deletes_ephemerals_and_fires_watches(address, kazoo, base):
    observer = kazoo()
    observer.create(base)
    doomed = RawClient(address, timeout_ms=2 * TICK_MS)
    assert doomed.create(base + "/eph", flags=1)[0] == 0
    fired = threading.Event()
    observer.exists(base + "/eph", watch=lambda e: fired.set() if e.type == "DELETED" else None)
    # Say nothing: no pings, so the session expires.
    assert fired.wait(15), "ephemeral of an expired session was not deleted"
    assert observer.exists(base + "/eph") is None
    again = RawClient(address, session_id=doomed.session_id, passwd=doomed.passwd)
    assert again.connect_response["timeout"] == 0


def test_kazoo_reattach_and_expired_session(kazoo, address, base):
    zk = kazoo()
    zk.create(base)
    session_id, password = zk.client_id
    zk2 = kazoo(client_id=(session_id, password))
    assert zk2.client_id[0] == session_id
    zk2.create(base + "/from-second-connection", ephemeral=True)
    zk2.stop()
    states = []
    zk3 = KazooClient(hosts=address, client_id=(session_id, password), timeout=10)
    zk3.add_listener(lambda state: states.append(state))
    try:
        zk3.start(timeout=15)
        assert zk3.client_id[0] != session_id, "a closed session cannot be resumed"
        assert zk3.exists(base + "/from-second-connection") is None
    finally:
        zk3.stop()
        zk3.close()


def test_close_session_deletes_ephemerals(kazoo, base):
    a = kazoo()
    a.create(base)
    a.create(base + "/e1", ephemeral=True)
    a.create(base + "/e2", ephemeral=True, sequence=True)
    b = kazoo()
    a.stop()
    assert b.get_children(base) == []


def test_pings_keep_a_session_alive(address):
    c = RawClient(address, timeout_ms=2 * TICK_MS)
    for _ in range(8):
        time.sleep(TICK_MS / 1000 / 2)
        err, _, _ = c.call("ping", xid=-2)
        assert err == 0
    assert c.exists("/")[0] == 0
    c.close()
