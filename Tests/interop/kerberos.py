"""A throwaway Kerberos realm for the GSSAPI tests: MIT's KDC (Debian's krb5-kdc and
krb5-admin-server) on a free loopback port, with its database, configuration and keytabs in a
temporary directory; nothing of the machine's own Kerberos setup is used or changed."""
import os
import shutil
import socket
import subprocess
import tempfile
import time

from servers import free_port

REALM = "AVIARY.TEST"


class Realm:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="kdc-")
        self.port = free_port()
        self.krb5_conf = self.path("krb5.conf")
        with open(self.krb5_conf, "w") as f:
            f.write("""[libdefaults]
    default_realm = %(realm)s
    dns_lookup_realm = false
    dns_lookup_kdc = false
    rdns = false
    udp_preference_limit = 1
[realms]
    %(realm)s = {
        kdc = 127.0.0.1:%(port)d
    }
[domain_realm]
    localhost = %(realm)s
""" % {"realm": REALM, "port": self.port})
        with open(self.path("kdc.conf"), "w") as f:
            f.write("""[kdcdefaults]
    kdc_ports = %(port)d
    kdc_tcp_ports = %(port)d
[realms]
    %(realm)s = {
        database_name = %(dir)s/principal
        key_stash_file = %(dir)s/stash
        acl_file = %(dir)s/kadm5.acl
        max_life = 1h
    }
[logging]
    kdc = FILE:%(dir)s/kdc.log
""" % {"realm": REALM, "port": self.port, "dir": self.dir})
        self.env = dict(os.environ, KRB5_CONFIG=self.krb5_conf, KRB5_KDC_PROFILE=self.path("kdc.conf"))
        self._run("kdb5_util", "create", "-s", "-r", REALM, "-P", "master-" + os.urandom(6).hex())
        self.kdc = subprocess.Popen(["krb5kdc", "-n"], env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if self.kdc.poll() is not None or time.time() > deadline:
                    raise RuntimeError("the KDC did not start; its log: " + self._log())
                time.sleep(0.1)

    def _log(self):
        try:
            with open(self.path("kdc.log")) as f:
                return f.read()[-2000:]
        except OSError:
            return "(none)"

    def path(self, name):
        return os.path.join(self.dir, name)

    def _run(self, *args):
        subprocess.run(list(args), env=self.env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def keytab(self, principal, name):
        """Creates `principal` (random key) if it is new and writes its keys to keytab `name`
        (each export draws a new key, so an older keytab of the principal goes stale)."""
        self._run("kadmin.local", "-q", "addprinc -randkey %s" % principal)
        path = self.path(name)
        self._run("kadmin.local", "-q", "ktadd -k %s %s" % (path, principal))
        return path

    def export(self, principal, name):
        """Adds `principal`'s current keys to keytab `name`, without new ones."""
        path = self.path(name)
        self._run("kadmin.local", "-q", "ktadd -norandkey -k %s %s" % (path, principal))
        return path

    def close(self):
        self.kdc.terminate()
        try:
            self.kdc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kdc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def jaas(path, section, keytab, principal):
    """A JAAS file with one Kerberos section (Krb5LoginModule with a keytab)."""
    with open(path, "w") as f:
        f.write("""%s {
    com.sun.security.auth.module.Krb5LoginModule required
    useKeyTab=true
    keyTab="%s"
    storeKey=true
    useTicketCache=false
    principal="%s";
};
""" % (section, keytab, principal))
    return path
