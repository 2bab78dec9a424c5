"""SASL DIGEST-MD5 for clients (issue 14): the JAAS file named in SERVER_JVMFLAGS, as
zkServer.sh users set it, read by Apache ZooKeeper 3.8 and Aviary alike; kazoo (pure-sasl) and
the Java client authenticate; `sasl` ACLs, the SASL super user, wrong passwords and enforced
authentication behave the same on both servers."""
import json
import os
import shutil
import subprocess
import tempfile
import urllib.request

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import AuthFailedError, NoAuthError
from kazoo.security import make_acl

from rawzk import RawClient, Closed
from servers import Server, four_letter, zookeeper_classpath

BOB_PASSWORD = "bob-secret-3"
SUPER_PASSWORD = "admin-secret-5"
SASL_PROVIDER = "authProvider.sasl=org.apache.zookeeper.server.auth.SASLAuthenticationProvider\n"


@pytest.fixture(scope="module")
def jaas():
    directory = tempfile.mkdtemp(prefix="sasl-jaas-")
    server = os.path.join(directory, "server.jaas")
    with open(server, "w") as f:
        f.write("""/* SASL users of the test servers */
Server {
    org.apache.zookeeper.server.auth.DigestLoginModule required
    user_super="%s"
    user_bob="%s";
};
""" % (SUPER_PASSWORD, BOB_PASSWORD))
    client = os.path.join(directory, "client.jaas")
    with open(client, "w") as f:
        f.write('Client {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n'
                '  username="bob"\n  password="%s";\n};\n' % BOB_PASSWORD)
    yield {"server": server, "client": client}
    shutil.rmtree(directory, ignore_errors=True)


def start(kind, jaas, extra="", properties="", admin=False):
    flags = "-Djava.security.auth.login.config=%s %s" % (jaas["server"], properties)
    return Server(kind, extra_config=SASL_PROVIDER + extra, env={"SERVER_JVMFLAGS": flags}, admin=admin)


def sasl_client(server, user="bob", password=BOB_PASSWORD, timeout=15):
    client = KazooClient(server.address, timeout=timeout,
                         sasl_options={"mechanism": "DIGEST-MD5", "username": user, "password": password})
    client.start(timeout=timeout)
    return client


def test_digest_md5_identities_acls_and_super_user_match_zookeeper(jaas):
    seen = {}
    for kind in ("zookeeper", "aviary"):
        server = start(kind, jaas, properties="-Dzookeeper.superUser=super")
        try:
            bob = sasl_client(server)
            bob.create("/bobs", b"mine", acl=[make_acl("sasl", "bob", read=True, write=True)])
            bob.create("/auth", b"", acl=[make_acl("auth", "", all=True)])
            seen[kind] = ([(a.id.scheme, a.id.id, a.perms) for a in bob.get_acls("/bobs")[0]],
                          [(a.id.scheme, a.id.id) for a in bob.get_acls("/auth")[0]])
            assert bob.get("/bobs")[0] == b"mine"
            bob.stop()
            anonymous = KazooClient(server.address)
            anonymous.start(timeout=15)
            with pytest.raises(NoAuthError):
                anonymous.get("/bobs")
            anonymous.stop()
            admin = sasl_client(server, "super", SUPER_PASSWORD)
            assert admin.get("/bobs")[0] == b"mine", kind + ": zookeeper.superUser reads anything"
            admin.stop()
        finally:
            server.stop()
    assert seen["aviary"] == seen["zookeeper"] == ([("sasl", "bob", 3)], [("sasl", "bob")])


def test_a_wrong_password_is_refused_as_zookeeper_refuses_it(jaas):
    for kind in ("zookeeper", "aviary"):
        server = start(kind, jaas, admin=(kind == "aviary"))
        try:
            # kazoo authenticates after the session is made; the failure ends the session and
            # the next request raises AuthFailedError, with ZooKeeper as with Aviary.
            for user, password in (("bob", "not-the-password"), ("mallory", "x")):
                refused = sasl_client(server, user, password, timeout=5)
                with pytest.raises(AuthFailedError):
                    refused.get("/")
                refused.stop()
                refused.close()
            good = sasl_client(server)
            assert good.exists("/") is not None, kind + ": the refusals cost the server nothing"
            good.stop()
            if kind == "aviary":
                figures = dict(line[3:].split("\t", 1) for line in four_letter(server.address, "mntr").strip().splitlines())
                assert int(figures["auth_failed_count"]) >= 2
                recent = json.loads(urllib.request.urlopen("http://127.0.0.1:%d/events/recent" % server.admin_port).read())
                assert any(e["kind"] == "auth_failed" and e["details"].get("scheme") == "sasl" for e in recent)
                log = server.run_log()
                assert "failed to SASL authenticate" in log
                assert "not-the-password" not in log and BOB_PASSWORD not in log and SUPER_PASSWORD not in log
        finally:
            server.stop()


def test_the_java_client_authenticates_with_its_jaas_client_section(jaas):
    server = start("aviary", jaas)
    try:
        flags = ["-Djava.security.auth.login.config=" + jaas["client"]]
        script = "create /java-sasl hi sasl:bob:cdrwa\ngetAcl /java-sasl\nget /java-sasl\nquit\n"
        result = subprocess.run(["java", "-cp", zookeeper_classpath()] + flags
                                + ["org.apache.zookeeper.ZooKeeperMain", "-server", server.address],
                                input=script.encode(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        out = result.stdout.decode(errors="replace")
        assert "Created /java-sasl" in out and "'sasl,'bob" in out and "hi" in out, out
    finally:
        server.stop()


def raw_unauthenticated(server):
    """What an unauthenticated client gets for a read: (error, whether the server closed)."""
    client = RawClient(server.address)
    err, _ = client.get_data("/")
    try:
        client.get_data("/")
        closed = False
    except (Closed, OSError, AssertionError):
        closed = True
    client.close()
    return err, closed


def test_enforced_authentication_refuses_sessions_that_never_authenticated(jaas):
    seen = {}
    for kind in ("zookeeper", "aviary"):
        server = start(kind, jaas, extra="enforce.auth.enabled=true\nenforce.auth.schemes=sasl\n")
        try:
            seen[kind] = raw_unauthenticated(server)
            bob = sasl_client(server)
            bob.create("/enforced", b"ok")
            assert bob.get("/enforced")[0] == b"ok"
            bob.stop()
        finally:
            server.stop()
    assert seen["aviary"] == seen["zookeeper"] == (-124, True)


def test_a_jaas_file_that_cannot_be_used_stops_the_start(jaas, tmp_path):
    broken = tmp_path / "broken.jaas"
    broken.write_text('Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  user_bob="%s"\n' % BOB_PASSWORD)
    for path, expected in ((str(broken), "the file ends"), (str(tmp_path / "missing.jaas"), "cannot read the JAAS file"),
                           (jaas["client"] + " -Dzookeeper.sasl.serverconfig=ZooServer", "has no section ZooServer")):
        config = tmp_path / "zoo.cfg"
        config.write_text("dataDir=%s\nclientPort=0\nadmin.enableServer=false\nmetricsProvider.httpPort=0\n" % (tmp_path / "data"))
        from servers import aviary_binary
        result = subprocess.run([aviary_binary(), "server", str(config)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                env=dict(os.environ, SERVER_JVMFLAGS="-Djava.security.auth.login.config=" + path), timeout=60)
        out = result.stdout.decode(errors="replace")
        assert result.returncode != 0 and expected in out and BOB_PASSWORD not in out, out
