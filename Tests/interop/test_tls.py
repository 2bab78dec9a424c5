"""TLS on the client ports (issue 14): real clients (kazoo, the Java client with its Netty
socket) against Aviary's secureClientPort and a unified port; x509 identities compared with
Apache ZooKeeper's for the same certificates; refusals and what they cost; secrets kept out of
every output. Certificates are made by openssl for each run (tlscerts.py)."""
import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.request

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import InvalidACLError, NoAuthError
from kazoo.security import make_acl

from rawzk import RawClient
from servers import Server, free_port, four_letter, zookeeper_classpath
from tlscerts import Certificates, PASSWORD, TRUST_PASSWORD, CLIENT_DN, SUPER_DN


def tls_config(certs, port, pkcs12=False, client_auth=None, extra="", stores=None):
    """A TLS client port's zoo.cfg keys: `stores` as given, else PKCS12 or PEM stores."""
    if stores is None and pkcs12:
        stores = ("ssl.keyStore.location=%s\nssl.keyStore.password=%s\n"
                  "ssl.trustStore.location=%s\nssl.trustStore.password=%s\n"
                  % (certs.path("server.p12"), PASSWORD, certs.path("ca.p12"), TRUST_PASSWORD))
    elif stores is None:
        stores = ("ssl.keyStore.location=%s\nssl.keyStore.type=PEM\nssl.trustStore.location=%s\nssl.trustStore.type=PEM\n"
                  % (certs.path("server.pem"), certs.path("ca.crt")))
    auth = "ssl.clientAuth=%s\n" % client_auth if client_auth else ""
    return ("secureClientPort=%d\nserverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory\n"
            "authProvider.x509=org.apache.zookeeper.server.auth.X509AuthenticationProvider\n"
            "ssl.hostnameVerification=false\n" % port) + stores + auth + extra


def test_store_passwords_may_come_from_files(certs):
    """ssl.keyStore.passwordPath / ssl.trustStore.passwordPath (ZooKeeper 3.8's keys): each
    password read from its file, less the final line end; a file with the wrong password stops
    the start, saying which store, and the password never reaches the log."""
    directory = tempfile.mkdtemp(prefix="tls-passwords-")
    try:
        def secret(name, text):
            path = os.path.join(directory, name)
            with open(path, "w") as f:
                f.write(text)
            return path
        key_file, trust_file = secret("key.pass", PASSWORD + "\n"), secret("trust.pass", TRUST_PASSWORD)
        stores = ("ssl.keyStore.location=%s\nssl.keyStore.passwordPath=%s\n"
                  "ssl.trustStore.location=%s\nssl.trustStore.passwordPath=%s\n"
                  % (certs.path("server.p12"), key_file, certs.path("ca.p12"), trust_file))
        port = free_port()
        server = Server("aviary", extra_config=tls_config(certs, port, stores=stores))
        try:
            client = kazoo_tls(certs, port)
            client.create("/from-files", b"x")
            client.stop()
            assert PASSWORD not in server.log_text() and TRUST_PASSWORD not in server.log_text()
        finally:
            server.stop()
        wrong = secret("wrong.pass", "not-" + PASSWORD + "\n")
        with pytest.raises(RuntimeError) as failed:
            Server("aviary", extra_config=tls_config(certs, free_port(), stores=stores.replace(key_file, wrong)))
        assert "ssl.keyStore" in str(failed.value) and "this password opens" in str(failed.value), failed.value
        assert "not-" + PASSWORD not in str(failed.value)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def kazoo_tls(certs, port, who="client", trust="ca.crt", timeout=15):
    options = dict(use_ssl=True, ca=certs.path(trust), verify_certs=True, check_hostname=False)
    if who:
        options.update(certfile=certs.path(who + ".crt"), keyfile=certs.path(who + ".key"))
    client = KazooClient("127.0.0.1:%d" % port, timeout=timeout, **options)
    client.start(timeout=timeout)
    return client


def refused(certs, port, **options):
    """Whether a kazoo TLS client fails to get a session within a few seconds."""
    try:
        client = kazoo_tls(certs, port, timeout=4, **options)
    except Exception:
        return True
    client.stop()
    client.close()
    return False


def java_client(certs, port, script):
    """The Java client (ZooKeeperMain, zkCli.sh's class) over TLS with its Netty socket."""
    flags = ["-Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty", "-Dzookeeper.client.secure=true",
             "-Dzookeeper.ssl.keyStore.location=" + certs.path("client.pem"), "-Dzookeeper.ssl.keyStore.type=PEM",
             "-Dzookeeper.ssl.trustStore.location=" + certs.path("ca.crt"), "-Dzookeeper.ssl.trustStore.type=PEM"]
    result = subprocess.run(["java", "-cp", zookeeper_classpath()] + flags
                            + ["org.apache.zookeeper.ZooKeeperMain", "-server", "127.0.0.1:%d" % port],
                            input=script.encode(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    return result.stdout.decode(errors="replace")


def mntr(server):
    return dict(line[len("zk_"):].split("\t", 1) for line in four_letter(server.address, "mntr").strip().splitlines())


def test_kazoo_and_the_java_client_over_tls_with_pkcs12_stores(certs):
    port = free_port()
    server = Server("aviary", extra_config=tls_config(certs, port, pkcs12=True))
    try:
        client = kazoo_tls(certs, port)
        client.create("/tls", b"over tls", acl=[make_acl("auth", "", all=True)])
        assert client.get("/tls")[0] == b"over tls"
        # The certificate's subject is the client's x509 identity, as ZooKeeper spells it.
        assert [(a.id.scheme, a.id.id) for a in client.get_acls("/tls")[0]] == [("x509", CLIENT_DN)]
        client.stop()
        out = java_client(certs, port, "create /java hello\nget /java\nget /tls\nquit\n")
        assert "Created /java" in out and "hello" in out, out
        assert "over tls" in out, "the same certificate is the same x509 identity for the Java client: " + out
    finally:
        server.stop()


def test_x509_identities_and_super_user_match_zookeepers(certs):
    """The same certificates against Apache ZooKeeper 3.8 (Netty, X509AuthenticationProvider)
    and Aviary: the same x509 ids in ACLs, and the same certificate as super user."""
    seen = {}
    for kind in ("zookeeper", "aviary"):
        port = free_port()
        server = Server(kind, extra_config=tls_config(certs, port, extra="X509AuthenticationProvider.superUser=%s\n" % SUPER_DN))
        try:
            client = kazoo_tls(certs, port)
            client.create("/mine", b"private", acl=[make_acl("auth", "", read=True, write=True)])
            seen[kind] = [(a.id.scheme, a.id.id, a.perms) for a in client.get_acls("/mine")[0]]
            client.stop()
            operator = kazoo_tls(certs, port, who="operator")
            assert operator.get("/mine")[0] == b"private", kind + ": the super user's certificate reads anything"
            operator.stop()
        finally:
            server.stop()
    assert seen["aviary"] == seen["zookeeper"] == [("x509", CLIENT_DN, 3)]


def test_one_port_takes_tls_and_plaintext_clients(certs):
    server = Server("aviary", extra_config=tls_config(certs, free_port()) + "client.portUnification=true\n")
    try:
        plain = KazooClient(server.address)
        plain.start(timeout=15)
        plain.create("/unified", b"both")
        secure = kazoo_tls(certs, server.port)
        assert secure.get("/unified")[0] == b"both"
        assert four_letter(server.address, "ruok") == "imok"
        plain.stop()
        secure.stop()
    finally:
        server.stop()


def test_refusals_are_counted_logged_and_cost_nothing_else(certs):
    port = free_port()
    server = Server("aviary", admin=True, extra_config=tls_config(certs, port, extra="ssl.handshakeDetectionTimeoutMillis=1000\n"))
    try:
        keeper = kazoo_tls(certs, port)
        keeper.create("/still-here", b"x")
        # A plaintext client on the TLS-only port.
        with pytest.raises(Exception):
            RawClient("127.0.0.1:%d" % port, timeout_ms=3000)
        # A certificate from another CA, an expired one, and none at all (ssl.clientAuth=need).
        assert refused(certs, port, who="stranger")
        assert refused(certs, port, who="expired")
        assert refused(certs, port, who=None)
        # A client that connects and never finishes its handshake is closed after the timeout.
        with socket.create_connection(("127.0.0.1", port), timeout=10) as stalled:
            stalled.sendall(b"\x16\x03\x01")
            began = time.time()
            assert stalled.recv(100) == b""
            assert 0.5 < time.time() - began < 5
        figures = mntr(server)
        assert int(figures["unsuccessful_handshake"]) >= 5
        assert int(figures["auth_failed_count"]) >= 1, "a refused certificate counts as a failed authentication"
        recent = json.loads(urllib.request.urlopen("http://127.0.0.1:%d/events/recent" % server.admin_port).read())
        failures = [e for e in recent if e["kind"] == "auth_failed" and e["details"].get("scheme") == "tls"]
        assert len(failures) >= 5
        reasons = " ".join(e["details"]["reason"] for e in failures)
        assert "WRONG_VERSION_NUMBER" in reasons and "CERTIFICATE_VERIFY_FAILED" in reasons, reasons
        assert "PEER_DID_NOT_RETURN_A_CERTIFICATE" in reasons, reasons
        assert any("did not finish" in e["details"]["reason"] for e in failures)
        assert "TLS handshake with /127.0.0.1 failed" in server.run_log()
        # Nothing else was lost: the session that was there still works.
        assert keeper.get("/still-here")[0] == b"x"
        keeper.stop()
    finally:
        server.stop()


def test_client_auth_want_lets_a_client_without_a_certificate_in(certs):
    port = free_port()
    server = Server("aviary", extra_config=tls_config(certs, port, client_auth="want"))
    try:
        anonymous = kazoo_tls(certs, port, who=None)
        with pytest.raises(InvalidACLError):
            anonymous.create("/anon", b"", acl=[make_acl("auth", "", all=True)])
        anonymous.create("/open", b"")
        anonymous.stop()
        known = kazoo_tls(certs, port)
        known.create("/known", b"", acl=[make_acl("auth", "", all=True)])
        known.stop()
        assert refused(certs, port, who="stranger"), "a certificate that is offered must still be trusted"
    finally:
        server.stop()


def test_secrets_never_appear_in_outputs_or_the_log(certs):
    port = free_port()
    server = Server("aviary", admin=True, extra_config=tls_config(certs, port, pkcs12=True))
    try:
        client = kazoo_tls(certs, port)
        client.stop()
        outputs = [four_letter(server.address, word) for word in ("conf", "envi", "mntr", "srvr")]
        for command in ("initial_configuration", "configuration", "environment"):
            with urllib.request.urlopen("http://127.0.0.1:%d/commands/%s" % (server.admin_port, command)) as response:
                outputs.append(response.read().decode())
        outputs.append(server.log_text())
        for text in outputs:
            assert PASSWORD not in text and TRUST_PASSWORD not in text
        assert "ssl.keyStore.password=********" in outputs[4]
    finally:
        server.stop()


def start_failure(certs, extra):
    directory = tempfile.mkdtemp(prefix="tls-bad-")
    try:
        config = os.path.join(directory, "zoo.cfg")
        with open(config, "w") as f:
            f.write("dataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n"
                    "metricsProvider.httpPort=0\nsecureClientPort=%d\n%s" % (os.path.join(directory, "data"), free_port(), free_port(), extra))
        from servers import aviary_binary
        result = subprocess.run([aviary_binary(), "server", config], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        return result.returncode, result.stdout.decode(errors="replace")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def test_stores_that_cannot_be_used_stop_the_start_with_a_clear_message(certs):
    jks = certs.path("server.jks")
    shutil.copy(certs.path("server.p12"), jks)
    code, out = start_failure(certs, "ssl.keyStore.location=%s\nssl.keyStore.password=%s\n" % (jks, PASSWORD))
    assert code != 0 and "keytool -importkeystore" in out and PASSWORD not in out, out
    code, out = start_failure(certs, "ssl.keyStore.location=%s\nssl.keyStore.password=wrong\n" % certs.path("server.p12"))
    assert code != 0 and "password" in out, out
    code, out = start_failure(certs, "ssl.keyStore.location=%s\n" % certs.path("ca.p12"))
    assert code != 0 and "ssl.keyStore.location" in out, out
    code, out = start_failure(certs, "")
    assert code != 0 and "ssl.keyStore.location is not set" in out, out


def test_a_changed_key_store_is_used_for_new_connections(certs):
    directory = tempfile.mkdtemp(prefix="tls-reload-")
    try:
        keystore = os.path.join(directory, "server.pem")
        shutil.copy(certs.path("server.pem"), keystore)
        port = free_port()
        extra = tls_config(certs, port, client_auth="none").replace(certs.path("server.pem"), keystore)
        server = Server("aviary", extra_config=extra)
        try:
            first = kazoo_tls(certs, port, who=None)
            # The new store holds a certificate from another authority: only a client that
            # trusts that one connects once it is in use.
            new = Certificates(os.path.join(directory, "new"))
            shutil.copy(new.path("server.pem"), keystore + ".tmp")
            os.replace(keystore + ".tmp", keystore)
            deadline = time.time() + 15
            while refused(new, port, who=None):
                assert time.time() < deadline, server.run_log()
                time.sleep(0.5)
            assert refused(certs, port, who=None), "the old authority no longer vouches for the server"
            assert first.exists("/") is not None, "an open connection keeps its context"
            first.stop()
        finally:
            server.stop()
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def tls_handshake(certs, port, maximum=None, ciphers=None):
    """A raw TLS handshake with Python's ssl (no client certificate): (protocol, cipher)."""
    context = ssl.create_default_context(cafile=certs.path("ca.crt"))
    context.check_hostname = False
    if maximum:
        context.maximum_version = maximum
    if ciphers:
        context.set_ciphers(ciphers)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with context.wrap_socket(raw) as tls:
            return tls.version(), tls.cipher()[0]


def test_protocol_and_cipher_settings_are_enforced(certs):
    port = free_port()
    server = Server("aviary", extra_config=tls_config(certs, port, client_auth="none", extra="ssl.enabledProtocols=TLSv1.3\n"))
    try:
        assert tls_handshake(certs, port)[0] == "TLSv1.3"
        with pytest.raises((ssl.SSLError, OSError)):
            tls_handshake(certs, port, maximum=ssl.TLSVersion.TLSv1_2)
    finally:
        server.stop()
    port = free_port()
    suites = "ssl.protocol=TLSv1.2\nssl.ciphersuites=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384\n"
    server = Server("aviary", extra_config=tls_config(certs, port, client_auth="none", extra=suites))
    try:
        assert tls_handshake(certs, port) == ("TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384")
        with pytest.raises((ssl.SSLError, OSError)):
            tls_handshake(certs, port, ciphers="ECDHE-RSA-AES128-GCM-SHA256")
        deadline = time.time() + 10
        while "NO_SHARED_CIPHER" not in server.run_log():
            assert time.time() < deadline, server.run_log()[-2000:]
            time.sleep(0.2)
    finally:
        server.stop()
