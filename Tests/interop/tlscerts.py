"""Certificates for the TLS tests, made with openssl each run: a CA, a server certificate for
127.0.0.1 / localhost, client certificates from that CA and from another one, in PEM and
PKCS12 stores."""
import os
import subprocess

PASSWORD = "keystore-secret-7"
TRUST_PASSWORD = "truststore-secret-9"
CLIENT_SUBJECT = "/C=NL/O=Aviary Tests/OU=interop/CN=client one"
# Java's X500Principal.getName() of that subject (RFC 2253: last relative name first).
CLIENT_DN = "CN=client one,OU=interop,O=Aviary Tests,C=NL"
SUPER_SUBJECT = "/O=Aviary Tests/CN=operator"
SUPER_DN = "CN=operator,O=Aviary Tests"


def _run(*args, cwd):
    subprocess.run(list(args), cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class Certificates:
    def __init__(self, directory):
        self.dir = directory
        os.makedirs(directory, exist_ok=True)
        self._ca("ca", "/O=Aviary Tests/CN=Aviary Test CA")
        self._ca("otherca", "/O=Somebody Else/CN=Other CA")
        self._leaf("server", "ca", "/O=Aviary Tests/CN=localhost", "subjectAltName=IP:127.0.0.1,DNS:localhost")
        self._leaf("client", "ca", CLIENT_SUBJECT, "extendedKeyUsage=clientAuth")
        self._leaf("operator", "ca", SUPER_SUBJECT, "extendedKeyUsage=clientAuth")
        self._leaf("stranger", "otherca", "/O=Somebody Else/CN=stranger", "extendedKeyUsage=clientAuth")
        self._expired("expired", "ca", "expired client")
        # One certificate for every ensemble member (127.0.0.2-4): ZooKeeper checks the peer's
        # address against it in both directions, and a dialling member's source address on
        # loopback is 127.0.0.1 (localhost).
        members = "subjectAltName=IP:127.0.0.2,IP:127.0.0.3,IP:127.0.0.4,IP:127.0.0.1,DNS:localhost"
        self._leaf("quorum", "ca", "/O=Aviary Tests/CN=quorum", members)
        self._leaf("intruder", "otherca", "/O=Somebody Else/CN=quorum", members)
        # The ensemble's own authority, but for an address no member dials from.
        self._leaf("elsewhere", "ca", "/O=Aviary Tests/CN=quorum", "subjectAltName=IP:127.0.0.9")
        for name in ("server", "client", "operator", "stranger", "quorum", "intruder", "elsewhere"):
            # A PEM key store: key and certificate in one file, as ZooKeeper's PEM type reads it.
            with open(self.path(name + ".pem"), "w") as out:
                for part in (name + ".key", name + ".crt"):
                    with open(self.path(part)) as f:
                        out.write(f.read())
        _run("openssl", "pkcs12", "-export", "-in", "server.crt", "-inkey", "server.key", "-certfile", "ca.crt",
             "-out", "server.p12", "-passout", "pass:" + PASSWORD, cwd=directory)
        _run("openssl", "pkcs12", "-export", "-nokeys", "-in", "ca.crt", "-out", "ca.p12",
             "-passout", "pass:" + TRUST_PASSWORD, cwd=directory)
        # Java reads PKCS12 trust stores only with its own trusted-certificate attribute:
        # the Java side gets PEM.

    def path(self, name):
        return os.path.join(self.dir, name)

    def _ca(self, name, subject):
        _run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out", name + ".crt",
             "-days", "2", "-subj", subject, "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=self.dir)

    def _expired(self, name, ca, common_name):
        """A client certificate from `ca` whose validity ended yesterday (openssl 3.0 cannot
        backdate one; Python's cryptography can)."""
        import datetime
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
        with open(self.path(ca + ".key"), "rb") as f:
            ca_key = serialization.load_pem_private_key(f.read(), password=None)
        with open(self.path(ca + ".crt"), "rb") as f:
            ca_cert = x509.load_pem_x509_certificate(f.read())
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
                .issuer_name(ca_cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(days=3)).not_valid_after(now - datetime.timedelta(days=1))
                .sign(ca_key, hashes.SHA256()))
        with open(self.path(name + ".key"), "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        with open(self.path(name + ".crt"), "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))

    def _leaf(self, name, ca, subject, extension):
        _run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out", name + ".csr",
             "-subj", subject, cwd=self.dir)
        with open(os.path.join(self.dir, name + ".ext"), "w") as f:
            f.write(extension + "\n")
        _run("openssl", "x509", "-req", "-in", name + ".csr", "-CA", ca + ".crt", "-CAkey", ca + ".key",
             "-CAcreateserial", "-out", name + ".crt", "-days", "2", "-extfile", name + ".ext", cwd=self.dir)
