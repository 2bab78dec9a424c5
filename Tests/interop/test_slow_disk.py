"""A disk whose fsync hangs: writes wait for it, but pings, reads and four-letter words of
other sessions are answered meanwhile.

Aviary only: Apache ZooKeeper 3.8 standalone queues a read behind a pending flush in its
SyncRequestProcessor, so there a ping or getData of another session waits for the disk too
(seen with this test against it: the getData came back after the fsync, with the new data)."""
import os
import subprocess
import tempfile
import time

import pytest
from rawzk import RawClient, OP, i32, string, buf
from servers import Server, four_letter

HERE = os.path.dirname(os.path.abspath(__file__))
HANG_MS = 4000


@pytest.fixture(scope="module")
def shim():
    out = os.path.join(tempfile.mkdtemp(prefix="slow-fsync-"), "slow_fsync.so")
    subprocess.run(["gcc", "-shared", "-fPIC", "-O2", "-o", out, os.path.join(HERE, "shims", "slow_fsync.c"), "-ldl"],
                   check=True)
    return out


def test_reads_pings_and_words_are_answered_while_a_fsync_hangs(shim):
    control = tempfile.mktemp(prefix="slow-fsync-control-")
    with open(control, "w") as f:
        f.write("0")
    server = Server("aviary", env={"LD_PRELOAD": shim, "SLOW_FSYNC_CONTROL": control})
    try:
        writer = RawClient(server.address, timeout_ms=30000)
        reader = RawClient(server.address, timeout_ms=30000)
        assert writer.create("/slow", b"before")[0] == 0
        with open(control, "w") as f:
            f.write(str(HANG_MS))
        started = time.time()
        writer.send_frame(i32(99) + i32(OP["setData"]) + string("/slow") + buf(b"after") + i32(-1))
        time.sleep(0.3)  # the write is now in its fsync
        answered = {}
        t = time.time()
        assert reader.call("ping", xid=-2)[0] == 0
        answered["ping"] = time.time() - t
        t = time.time()
        err, (data, _) = reader.get_data("/slow")
        assert err == 0 and data == b"before", "the write is not visible before it is durable"
        answered["getData"] = time.time() - t
        t = time.time()
        assert four_letter(server.address, "ruok", timeout=10) == "imok"
        answered["ruok"] = time.time() - t
        t = time.time()
        assert "Zxid" in four_letter(server.address, "srvr", timeout=10)
        answered["srvr"] = time.time() - t
        slowest = max(answered.values())
        assert slowest < HANG_MS / 2000, "answered only after the disk: %s" % answered
        writer.sock.settimeout(HANG_MS / 1000 + 20)
        xid, _, err, _ = writer.read_reply()
        assert (xid, err) == (99, 0)
        assert time.time() - started >= HANG_MS / 1000 * 0.8, "the write waited for its fsync"
        with open(control, "w") as f:
            f.write("0")
        assert reader.get_data("/slow")[1][0] == b"after"
        writer.close()
        reader.close()
    finally:
        with open(control, "w") as f:
            f.write("0")
        server.stop()
        os.unlink(control)
