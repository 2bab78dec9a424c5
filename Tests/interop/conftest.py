import os
import sys
import uuid

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from servers import Server  # noqa: E402

KINDS = ["aviary", "zookeeper"]


@pytest.fixture(scope="session", params=KINDS)
def server(request):
    """An Aviary and an Apache ZooKeeper 3.8 server: every test runs against both."""
    s = Server(request.param)
    yield s
    alive = s.alive()
    log = s.log_text()
    s.stop()
    assert alive, "%s died during the tests:\n%s" % (request.param, log[-4000:])


@pytest.fixture
def address(server):
    return server.address


@pytest.fixture
def base(request):
    """A unique top-level path for one test."""
    return "/t-%s-%s" % (request.node.name.split("[")[0][:40], uuid.uuid4().hex[:8])


@pytest.fixture
def kazoo(address):
    from kazoo.client import KazooClient
    clients = []

    def make(**kwargs):
        kwargs.setdefault("timeout", 10)
        c = KazooClient(hosts=address, **kwargs)
        c.start(timeout=15)
        clients.append(c)
        return c

    yield make
    for c in clients:
        try:
            c.stop()
            c.close()
        except Exception:
            pass


@pytest.fixture
def zk(kazoo):
    return kazoo()


@pytest.fixture(scope="session")
def certs():
    """Certificates made by openssl for this run (tlscerts.py), shared by the TLS tests."""
    import shutil
    import tempfile
    from tlscerts import Certificates
    directory = tempfile.mkdtemp(prefix="tls-certs-")
    try:
        yield Certificates(directory)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
