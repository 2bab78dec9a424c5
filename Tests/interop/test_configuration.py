"""zoo.cfg as an operator writes it: an ensemble configuration is never run standalone (the
member looks for its leader and serves no client until it has one), and a bad one stops the
server with a message naming the file and line."""
import os
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import pytest
from rawzk import Closed, RawClient
from servers import aviary_binary, four_letter, free_port


def data_directory(myid=None):
    """A new directory with a data directory in it, holding a myid file when `myid` is given."""
    directory = tempfile.mkdtemp(prefix="config-")
    data = os.path.join(directory, "data")
    os.makedirs(data)
    if myid is not None:
        with open(os.path.join(data, "myid"), "w") as f:
            f.write("%d\n" % myid)
    return directory, data


def start(config_text, myid=None):
    directory, data = data_directory(myid)
    path = os.path.join(directory, "zoo.cfg")
    with open(path, "w") as f:
        f.write("tickTime=500\ninitLimit=10\nsyncLimit=5\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\n"
                "admin.enableServer=false\nmetricsProvider.httpPort=0\n" % (data, free_port()) + config_text)
    result = subprocess.run([aviary_binary(), "server", path], capture_output=True, text=True, timeout=60)
    return result, path


ENSEMBLE = "server.1=127.0.0.2:2888:3888\nserver.2=127.0.0.3:2888:3888\nserver.3=127.0.0.4:2888:3888\n"


def member_alone(config_text, myid):
    """Starts a member whose peers are not running: it looks for a leader and must not serve."""
    directory, data = data_directory(myid)
    port, metrics = free_port(), free_port()
    path = os.path.join(directory, "zoo.cfg")
    with open(path, "w") as f:
        f.write("tickTime=500\ninitLimit=10\nsyncLimit=5\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\n"
                "admin.enableServer=false\nmetricsProvider.httpPort=%d\nmetricsProvider.httpHost=127.0.0.1\n"
                "4lw.commands.whitelist=*\n" % (data, port, metrics) + config_text)
    process = subprocess.Popen([aviary_binary(), "server", path], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        text = ""
        deadline = time.time() + 30
        while time.time() < deadline and not text:
            try:
                text = four_letter("127.0.0.1:%d" % port, "srvr")
            except OSError:
                time.sleep(0.3)
        assert "This ZooKeeper instance is not currently serving requests" in text, text
        # /ready says no: the member is not part of a serving quorum.
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen("http://127.0.0.1:%d/ready" % metrics, timeout=5)
        assert refused.value.code == 503
        # A client is turned away, as ZooKeeper turns it away while LOOKING.
        with pytest.raises((Closed, OSError)):
            RawClient("127.0.0.1:%d" % port)
        assert process.poll() is None, process.stderr.read()
    finally:
        process.kill()
        process.wait()


def test_an_ensemble_is_never_run_standalone():
    member_alone(ENSEMBLE, myid=1)


def test_one_server_with_standalone_disabled_is_an_ensemble_of_one():
    """As ZooKeeper: it elects itself, leads a quorum of one, and serves as leader."""
    directory, data = data_directory(1)
    port = free_port()
    path = os.path.join(directory, "zoo.cfg")
    with open(path, "w") as f:
        f.write("tickTime=500\ninitLimit=10\nsyncLimit=5\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\n"
                "admin.enableServer=false\nmetricsProvider.httpPort=0\n4lw.commands.whitelist=*\nstandaloneEnabled=false\n"
                "server.1=127.0.0.2:%d:%d\n" % (data, port, free_port(), free_port()))
    process = subprocess.Popen([aviary_binary(), "server", path], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        text = ""
        deadline = time.time() + 30
        while time.time() < deadline and "Mode: leader" not in text:
            try:
                text = four_letter("127.0.0.1:%d" % port, "srvr")
            except OSError:
                pass
            time.sleep(0.3)
        assert "Mode: leader" in text, text
        client = RawClient("127.0.0.1:%d" % port)
        err, created = client.create("/alone", b"x")
        assert err == 0 and created[1]["czxid"] >> 32 == 1, (err, created)  # epoch 1: zxids of its first epoch
        client.close()
    finally:
        process.kill()
        process.wait()


def test_contradictory_ensembles_name_the_file_and_line():
    result, path = start(ENSEMBLE)
    assert result.returncode != 0 and "myid file is missing" in result.stderr, result.stderr
    result, path = start(ENSEMBLE, myid=9)
    assert result.returncode != 0 and "myid 9 is not among the servers listed" in result.stderr, result.stderr
    result, path = start(ENSEMBLE + "server.4=127.0.0.2:3888:4888\n", myid=1)
    assert result.returncode != 0 and "%s:12:" % path in result.stderr and "already server.1's election port" in result.stderr, result.stderr


def test_config_check_names_every_bad_line_without_starting_a_server():
    directory, data = data_directory(1)
    path = os.path.join(directory, "zoo.cfg")
    with open(path, "w") as f:
        f.write("tickTime=two\ndataDir=%s\nsyncLimit=-1\n" % data + ENSEMBLE + "server.4=127.0.0.5:2888:2888\n")
    result = subprocess.run([aviary_binary(), "config", "check", path], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, result.stdout + result.stderr
    named = [line.split(":")[1] for line in result.stdout.splitlines() if line.startswith(path + ":")]
    assert named == ["1", "3", "7"], result.stdout
    assert result.stdout.endswith("3 problems\n"), result.stdout
    # Nothing was started: the data directory holds only the myid file.
    assert os.listdir(data) == ["myid"]
    with open(path, "w") as f:
        f.write("tickTime=2000\ndataDir=%s\n" % data + ENSEMBLE)
    result = subprocess.run([aviary_binary(), "config", "check", path], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.endswith("OK: an ensemble member (server.1 of 3 voters, 0 observers)\n"), result.stdout
