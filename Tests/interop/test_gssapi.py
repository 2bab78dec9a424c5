"""SASL GSSAPI (Kerberos) for clients (issue 14): a JAAS `Server` section that logs in with
`Krb5LoginModule` and a keytab, as ZooKeeper's users configure it, and the Java client with
its own keytab, against Apache ZooKeeper 3.8 and Aviary, with a KDC the test runs
(kerberos.py): the same `sasl` identities and ACLs on both, the principal rules
(`zookeeper.kerberos.removeRealmFromPrincipal`), a Kerberos super user, and a server logged in
as another principal refusing the client."""
import subprocess

import pytest

from kerberos import REALM, Realm, jaas
from servers import Server, four_letter, zookeeper_classpath

SASL_PROVIDER = "authProvider.sasl=org.apache.zookeeper.server.auth.SASLAuthenticationProvider\n"


@pytest.fixture(scope="module")
def realm():
    realm = Realm()
    realm.server_keytab = realm.keytab("zookeeper/localhost", "server.keytab")
    realm.client_keytab = realm.keytab("client", "client.keytab")
    realm.admin_keytab = realm.keytab("admin", "admin.keytab")
    realm.server_jaas = jaas(realm.path("server.jaas"), "Server", realm.server_keytab, "zookeeper/localhost@" + REALM)
    realm.client_jaas = jaas(realm.path("client.jaas"), "Client", realm.client_keytab, "client@" + REALM)
    realm.admin_jaas = jaas(realm.path("admin.jaas"), "Client", realm.admin_keytab, "admin@" + REALM)
    yield realm
    realm.close()


def start(kind, realm, properties="", server_jaas=None):
    flags = "-Djava.security.auth.login.config=%s -Djava.security.krb5.conf=%s %s" % (
        server_jaas or realm.server_jaas, realm.krb5_conf, properties)
    return Server(kind, extra_config=SASL_PROVIDER, env={"SERVER_JVMFLAGS": flags, "KRB5_CONFIG": realm.krb5_conf})


def java_client(realm, server, script, client_jaas=None):
    """zkCli.sh's class with the JAAS Client section; it asks for zookeeper/localhost's ticket."""
    flags = ["-Djava.security.auth.login.config=" + (client_jaas or realm.client_jaas), "-Djava.security.krb5.conf=" + realm.krb5_conf]
    port = server.address.rsplit(":", 1)[1]
    result = subprocess.run(["java", "-cp", zookeeper_classpath()] + flags
                            + ["org.apache.zookeeper.ZooKeeperMain", "-server", "localhost:" + port],
                            input=script.encode(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    return result.stdout.decode(errors="replace")


def acl_lines(output):
    return [line for line in output.splitlines() if line.startswith("'sasl,")]


def test_kerberos_clients_get_the_same_identities_as_on_zookeeper(realm):
    seen = {}
    for kind in ("zookeeper", "aviary"):
        server = start(kind, realm, properties="-Dzookeeper.superUser=admin@" + REALM)
        try:
            out = java_client(realm, server, "create /k secret sasl:client@%s:cdrwa\ngetAcl /k\nget /k\nwhoami\nquit\n" % REALM)
            assert "SaslAuthenticated" in out and "Created /k" in out and "secret" in out, out
            # The Kerberos super user reads what only `client` may read.
            admin = java_client(realm, server, "get /k\nquit\n", client_jaas=realm.admin_jaas)
            assert "SaslAuthenticated" in admin and "secret" in admin, admin
            seen[kind] = (acl_lines(out), [line for line in out.splitlines() if line.startswith("sasl: ")])
            if kind == "aviary":
                assert "SASL GSSAPI (Kerberos) for clients" in server.log_text()
        finally:
            server.stop()
    assert seen["aviary"] == seen["zookeeper"] == (["'sasl,'client@" + REALM], ["sasl: client@" + REALM]), seen


def test_the_realm_can_be_left_out_of_identities_as_on_zookeeper(realm):
    seen = {}
    for kind in ("zookeeper", "aviary"):
        server = start(kind, realm, properties="-Dzookeeper.kerberos.removeRealmFromPrincipal=true")
        try:
            out = java_client(realm, server, "create /short x sasl:client:cdrwa\ngetAcl /short\nget /short\nwhoami\nquit\n")
            assert "Created /short" in out, out
            seen[kind] = [line for line in out.splitlines() if line.startswith("sasl: ")]
        finally:
            server.stop()
    assert seen["aviary"] == seen["zookeeper"] == ["sasl: client"], seen


@pytest.mark.parametrize("keytab", ["its own keys only", "other keys too"])
def test_a_server_logged_in_as_another_principal_refuses_the_client(realm, keytab):
    """The server logs in as zookeeper/elsewhere; the client has a ticket for
    zookeeper/localhost. Whether the keytab holds only zookeeper/elsewhere's keys or
    zookeeper/localhost's as well, both servers refuse the authentication (ZooKeeper accepts
    tickets for the section's principal only); Aviary says why, counts it and keeps serving."""
    name = "elsewhere-%d.keytab" % len(keytab)
    elsewhere = realm.keytab("zookeeper/elsewhere", name)
    if keytab == "other keys too":
        realm.export("zookeeper/localhost", name)
    elsewhere_jaas = jaas(realm.path(name + ".jaas"), "Server", elsewhere, "zookeeper/elsewhere@" + REALM)
    for kind in ("zookeeper", "aviary"):
        server = start(kind, realm, server_jaas=elsewhere_jaas)
        try:
            out = java_client(realm, server, "create /nope x\nquit\n")
            assert "SaslAuthenticated" not in out and "Created /nope" not in out, out
            assert "AuthFailed" in out, out
            if kind == "aviary":
                log = server.log_text()
                assert "failed to SASL authenticate: Kerberos:" in log, log[-3000:]
                assert "zk_auth_failed_count\t0" not in four_letter(server.address, "mntr")
                assert four_letter(server.address, "ruok") == "imok"
        finally:
            server.stop()
