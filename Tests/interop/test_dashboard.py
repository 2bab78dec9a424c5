"""The dashboard at the AdminServer's `/`, rendered by headless Chromium while the server
works: it must show live numbers. The screenshot is kept in test-artifacts/dashboard.png."""
import os
import re
import shutil
import subprocess
import threading

import pytest
from rawzk import RawClient
from servers import Server, ROOT, four_letter

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def render(url, *flags):
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=6000",
               "--window-size=1280,1000", *flags, url]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is installed by scripts/test")
def test_dashboard_shows_live_numbers():
    server = Server("aviary", admin=True)
    stop = threading.Event()

    def load():
        c = RawClient(server.address)
        n = 0
        while not stop.is_set():
            c.create("/dash-%d" % n, b"v" * 40)
            c.get_data("/dash-%d" % n)
            n += 1
        c.close()
    worker = threading.Thread(target=load, daemon=True)
    try:
        worker.start()
        url = "http://127.0.0.1:%d/" % server.admin_port
        dom = render(url, "--dump-dom").stdout
        assert 'id="status" class="ok">live<' in dom, dom[:2000]
        znodes = int(re.search(r'id="znodes">(\d+)<', dom).group(1))
        assert znodes > 5, "the znode count grows under load"
        assert "standalone" in re.search(r'<tbody id="members">(.*?)</tbody>', dom, re.S).group(1)
        assert "server_started" in dom and "session_created" in dom
        assert re.search(r'id="throughputText">\d+ req/s now; \d+ packets in<', dom)
        artifacts = os.path.join(ROOT, "test-artifacts")
        os.makedirs(artifacts, exist_ok=True)
        shot = os.path.join(artifacts, "dashboard.png")
        result = render(url, "--screenshot=" + shot)
        assert os.path.getsize(shot) > 10_000, result.stderr[-2000:]
        stop.set()
        worker.join(10)
        mntr = dict(line.split("\t", 1) for line in four_letter(server.address, "mntr").splitlines())
        assert int(mntr["zk_znode_count"]) >= znodes
    finally:
        stop.set()
        server.stop()
