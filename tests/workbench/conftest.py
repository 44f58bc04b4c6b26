"""A real hub and a real browser for the workbench's tests.

Each test gets its own hub (the `xianjie` binary built by cargo, embedded SQLite, its
development CA) and a headless Chromium (Debian's, driven by Playwright) that logs in
with the members' PKCS#12 files, as a clerk's browser would. Screenshots go to
`target/workbench-artifacts/`.
"""

import os
import pathlib
import shutil
import subprocess
import tempfile
import threading

import pytest
from playwright.sync_api import sync_playwright

ROOT = pathlib.Path(__file__).resolve().parents[2]
BINARY = ROOT / os.environ.get("CARGO_TARGET_DIR", "target") / "debug" / "xianjie"
ARTIFACTS = ROOT / "target" / "workbench-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PASSWORD = "workbench-test"
# A Monday: deadlines count working days from here.
MONDAY = "2026-11-02T09:00:00+08:00"


class Hub:
    """One `xianjie serve` on a data directory of its own, restartable at another time."""

    def __init__(self, data, clock_start):
        self.data = pathlib.Path(data)
        self.start(clock_start)

    def start(self, clock_start):
        env = dict(
            os.environ,
            XIANJIE_CLOCK_START=clock_start,
            XIANJIE_WORKBENCH_LISTEN="127.0.0.1:0",
            XIANJIE_METRICS_LISTEN="off",
            XIANJIE_SCAN_INTERVAL_MS="200",
            XIANJIE_RELOAD_INTERVAL_MS="60000",
            XIANJIE_SHUTDOWN_GRACE_MS="0",
            XIANJIE_LOG="warn",
        )
        self.process = subprocess.Popen(
            [str(BINARY), "serve", "--listen", "127.0.0.1:0", "--data-dir", str(self.data)],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        grpc_line = self.process.stdout.readline()
        web_line = self.process.stdout.readline()
        assert grpc_line.startswith("xianjie listening on "), grpc_line
        assert web_line.startswith("workbench at https://"), web_line
        self.grpc = "https://localhost:" + grpc_line.split()[3].rsplit(":", 1)[1]
        self.url = web_line.split()[2].rstrip("/")
        # Keep reading, so that the hub never blocks on a full pipe.
        threading.Thread(target=self.process.stdout.read, daemon=True).start()

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)

    def restart(self, clock_start):
        self.stop()
        self.start(clock_start)

    def p12(self, who):
        """The PKCS#12 file of `who`, as `xianjie pki export-p12` writes it."""
        out = self.data / f"{who}.p12"
        if not out.exists():
            subprocess.run(
                [str(BINARY), "pki", "export-p12", who, "--out", str(out), "--dir", str(self.data / "pki")],
                env=dict(os.environ, XIANJIE_P12_PASSWORD=PASSWORD),
                check=True,
                capture_output=True,
            )
        return out

    def cli(self, who, *args):
        """`xianjie member WHO …` against this hub, as a member system's client would."""
        done = subprocess.run(
            [str(BINARY), "member", who, "--endpoint", self.grpc, "--pki-dir", str(self.data / "pki"), *args],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout


@pytest.fixture
def hub():
    with tempfile.TemporaryDirectory(prefix="xianjie-workbench-") as data:
        running = Hub(data, MONDAY)
        yield running
        running.stop()


@pytest.fixture(scope="session")
def browser():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM)
        yield launched
        launched.close()


class Desk:
    """A member's browser, logged in with its certificate."""

    def __init__(self, browser, hub, who, p12=None):
        certificates = []
        if who is not None:
            certificates = [{"origin": hub.url, "pfxPath": str(p12 or hub.p12(who)), "passphrase": PASSWORD}]
        self.context = browser.new_context(
            ignore_https_errors=True,
            client_certificates=certificates,
            viewport={"width": 1366, "height": 768},
            locale="zh-CN",
            accept_downloads=True,
        )
        self.page = self.context.new_page()
        self.hub = hub
        self.who = who
        self.urls = []
        self.page.on("request", lambda request: self.urls.append(request.url))

    def open(self, path):
        return self.page.goto(self.hub.url + path)

    def shot(self, name):
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    def close(self):
        self.context.close()


@pytest.fixture
def desk(browser, hub):
    opened = []

    def open_desk(who, p12=None):
        d = Desk(browser, hub, who, p12)
        opened.append(d)
        return d

    yield open_desk
    for d in opened:
        d.close()
