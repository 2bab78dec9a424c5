"""Starts an Aviary or an Apache ZooKeeper 3.8 server for the interop tests."""
import glob
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SUPER_PASSWORD = "super:test"
# Authentication.digest("super:test"): user:base64(sha1(user:password))
SUPER_DIGEST = "super:D/InIHSb7yEEbrWz8b9l71RjZJU="

TICK_MS = 500


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def four_letter(address, word, timeout=2):
    """Sends a four-letter word (str), or any bytes, and returns all the server answers."""
    host, port = address.split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        s.sendall(word if isinstance(word, bytes) else word.encode())
        out = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                return out.decode()
            out += chunk


def aviary_binary():
    explicit = os.environ.get("AVIARY_BIN")
    if explicit:
        return explicit
    for candidate in (".build/debug/aviary", ".build/release/aviary"):
        path = os.path.join(ROOT, candidate)
        if os.path.exists(path):
            return path
    raise RuntimeError("aviary binary not found: run 'swift build' first or set AVIARY_BIN")


def zookeeper_classpath():
    jars = ["/usr/share/java/zookeeper.jar", "/usr/share/java/zookeeper-jute.jar", "/usr/share/java/servlet-api.jar"]
    jars += glob.glob("/usr/share/java/slf4j-simple.jar") or glob.glob("/usr/share/java/slf4j-nop.jar")
    # Netty for TLS (NettyServerCnxnFactory, ClientCnxnSocketNetty): zookeeper.jar's manifest
    # names most of it, but not these.
    jars += [j for j in ("/usr/share/java/netty-resolver.jar", "/usr/share/java/netty-codec.jar",
                         "/usr/share/java/netty-transport-native-unix-common.jar") if os.path.exists(j)]
    return ":".join(jars)


class Server:
    """One server process on a free loopback port, with its own data directory."""

    def __init__(self, kind, extra_config="", data_dir=None, start=True, admin=False, env=None):
        self.kind = kind
        self.env = env
        self.admin_port = free_port() if admin else None
        self.dir = tempfile.mkdtemp(prefix="interop-%s-" % kind)
        self.data_dir = data_dir or os.path.join(self.dir, "data")
        self.port = free_port()
        self.metrics_port = free_port()
        self.address = "127.0.0.1:%d" % self.port
        self.config_path = os.path.join(self.dir, "zoo.cfg")
        with open(self.config_path, "w") as f:
            f.write("\n".join([
                "tickTime=%d" % TICK_MS,
                "dataDir=%s" % self.data_dir,
                "clientPort=%d" % self.port,
                "clientPortAddress=127.0.0.1",
                "maxClientCnxns=30",
                "extendedTypesEnabled=true",
                "4lw.commands.whitelist=*",
                "admin.enableServer=false",
                "DigestAuthenticationProvider.superDigest=%s" % SUPER_DIGEST,
                "znode.container.checkIntervalMs=500",
                "metricsProvider.httpPort=%d" % self.metrics_port,
                "metricsProvider.httpHost=127.0.0.1",
            ]) + "\n" + extra_config)
            if admin:
                f.write("admin.enableServer=true\nadmin.serverPort=%d\nadmin.serverAddress=127.0.0.1\n" % self.admin_port)
        os.makedirs(self.data_dir, exist_ok=True)
        self.log = open(os.path.join(self.dir, "server.log"), "a")
        self.process = None
        if start:
            self.start()

    def start(self):
        if self.kind == "aviary":
            command = [aviary_binary(), "server", self.config_path]
        else:
            # As zkServer.sh does: SERVER_JVMFLAGS go on the java command line.
            flags = (self.env or {}).get("SERVER_JVMFLAGS", "").split()
            command = ["java", "-Xmx512m", "-cp", zookeeper_classpath(), "-Dznode.container.checkIntervalMs=500",
                       "-Dzookeeper.admin.enableServer=%s" % ("true" if self.admin_port else "false")] + flags + [
                       "org.apache.zookeeper.server.ZooKeeperServerMain", self.config_path]
        self.log_offset = os.path.getsize(os.path.join(self.dir, "server.log"))
        environment = dict(os.environ, **self.env) if self.env else None
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT, cwd=self.dir, env=environment)
        self.wait_ready()

    def kill(self):
        """SIGKILL: no chance to flush anything."""
        self.process.kill()
        self.process.wait()

    def terminate(self):
        self.process.terminate()
        self.process.wait(20)

    def run_log(self):
        """What the server printed since its last start."""
        return self.log_text()[self.log_offset:]

    def wait_ready(self, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("%s exited with %s:\n%s" % (self.kind, self.process.returncode, self.log_text()))
            try:
                if four_letter(self.address, "ruok") == "imok":
                    # ZooKeeper answers imok before it serves sessions: open one to be sure.
                    from rawzk import RawClient
                    client = RawClient(self.address)
                    if client.connect_response["timeout"] > 0:
                        client.close()
                        return
            except Exception:
                pass
            time.sleep(0.1)
        raise RuntimeError("%s did not start:\n%s" % (self.kind, self.log_text()))

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def log_text(self):
        self.log.flush()
        with open(os.path.join(self.dir, "server.log")) as f:
            return f.read()

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class Ensemble:
    """Configuration files for a three-member ensemble on loopback aliases (server.N on
    127.0.0.N+1), with free quorum, election and client ports; `observers` are listed as such;
    `extra` is added to every member's zoo.cfg.
    Members are started one by one: Apache ZooKeeper with `start_zookeeper`, Aviary's tools
    on `configs[sid]`."""

    HOSTS = {1: "127.0.0.2", 2: "127.0.0.3", 3: "127.0.0.4"}

    def __init__(self, root, observers=(), admin=False, extra="", tick_time=500, init_limit=10, sync_limit=5):
        self.root = root
        self.quorum = {sid: free_port() for sid in self.HOSTS}
        self.election = {sid: free_port() for sid in self.HOSTS}
        self.client = {sid: free_port() for sid in self.HOSTS}
        self.metrics = {sid: free_port() for sid in self.HOSTS}
        self.admin = {sid: free_port() for sid in self.HOSTS} if admin else {}
        members = "".join("server.%d=%s:%d:%d%s;%s:%d\n" % (
            sid, host, self.quorum[sid], self.election[sid], ":observer" if sid in observers else "", host, self.client[sid])
            for sid, host in self.HOSTS.items())
        self.configs = {}
        for sid, host in self.HOSTS.items():
            data = os.path.join(root, "s%d" % sid)
            os.makedirs(data)
            with open(os.path.join(data, "myid"), "w") as f:
                f.write("%d\n" % sid)
            path = os.path.join(root, "zoo%d.cfg" % sid)
            with open(path, "w") as f:
                admin_lines = ("admin.enableServer=true\nadmin.serverAddress=%s\nadmin.serverPort=%d\n" % (host, self.admin[sid])
                               if admin else "admin.enableServer=false\n")
                f.write("tickTime=%d\ninitLimit=%d\nsyncLimit=%d\ndataDir=%s\nclientPort=%d\nclientPortAddress=%s\n"
                        % (tick_time, init_limit, sync_limit, data, self.client[sid], host)
                        + admin_lines + "4lw.commands.whitelist=*\nmetricsProvider.httpPort=%d\nmetricsProvider.httpHost=%s\n"
                        % (self.metrics[sid], host) + ("peerType=observer\n" if sid in observers else "") + extra + members)
            self.configs[sid] = path

    def admin_command(self, sid, name):
        """The AdminServer's JSON answer to `name` on server `sid` (built with admin=True)."""
        url = "http://%s:%d/commands/%s" % (self.HOSTS[sid], self.admin[sid], name)
        with urllib.request.urlopen(url, timeout=10) as response:
            return json.loads(response.read())

    def client_address(self, sid):
        return "%s:%d" % (self.HOSTS[sid], self.client[sid])

    def start_zookeeper(self, sid, properties=(), heap="256m", env=None):
        """Starts ZooKeeper member `sid`; `properties` are extra `-D` system properties, `env`
        extra environment variables."""
        log = open(os.path.join(self.root, "zk%d.log" % sid), "a")
        admin = [] if self.admin else ["-Dzookeeper.admin.enableServer=false"]
        return subprocess.Popen(["java", "-Xmx" + heap, "-cp", zookeeper_classpath()] + admin
                                + ["-D" + p for p in properties]
                                + ["org.apache.zookeeper.server.quorum.QuorumPeerMain", self.configs[sid]],
                                stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ, **(env or {})))

    def start_aviary(self, sid, env=None, user=None):
        """Starts Aviary member `sid`; `env` adds environment variables (SERVER_JVMFLAGS...);
        `user` runs it as that system user (who then owns its data directory)."""
        log = open(os.path.join(self.root, "aviary%d.log" % sid), "a")
        if user is not None:
            subprocess.run(["chown", "-R", user, os.path.join(self.root, "s%d" % sid)], check=True)
            os.chmod(self.root, 0o755)
        return subprocess.Popen([aviary_binary(), "server", self.configs[sid]], stdout=log, stderr=subprocess.STDOUT,
                                env=dict(os.environ, **(env or {})), user=user)

    def quorum_ports(self):
        """Every member's quorum and election ports."""
        return sorted(list(self.quorum.values()) + list(self.election.values()))

    def mode(self, sid):
        """What `srvr` says of server `sid`: leader, follower, observer, "not serving", or None."""
        try:
            text = four_letter(self.client_address(sid), "srvr")
        except OSError:
            return None
        if "not currently serving" in text:
            return "not serving"
        for line in text.splitlines():
            if line.startswith("Mode: "):
                return line[len("Mode: "):].strip()
        return None

    def wait_for_mode(self, sid, modes, timeout=90):
        deadline = time.time() + timeout
        while time.time() < deadline:
            mode = self.mode(sid)
            if mode in modes:
                return mode
            time.sleep(0.5)
        return self.mode(sid)

    def wait_for_leader(self, among, timeout=90):
        """The sid among `among` whose `srvr` says leader, or None after `timeout` seconds."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            time.sleep(0.5)
            for sid in among:
                try:
                    if "Mode: leader" in four_letter(self.client_address(sid), "srvr"):
                        return sid
                except OSError:
                    pass
        return None
