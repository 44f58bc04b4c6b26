"""A real hub and a real browser for the workbench's tests.

Each test gets its own hub (the `xianjie` binary built by cargo, embedded SQLite, its
development CA) and a headless Chromium (Debian's, driven by Playwright) that signs in
as a clerk would: the clerk's own PKCS#12 file, then the password (the initial one
changed at the first sign-in). Screenshots go to `target/workbench-artifacts/`.
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
# The clerk every desk signs in as, with the initial password the administrator gave
# and the one the clerk chose.
CLERK, CLERK_NAME = "desk", "测试经办人"
INITIAL, CHOSEN = "initial-pw-2026", "chosen-pw-2026"
# A Monday: deadlines count working days from here.
MONDAY = "2026-11-02T09:00:00+08:00"


class Hub:
    """One `xianjie serve` on a data directory of its own, restartable at another time."""

    def __init__(self, data, clock_start):
        self.data = pathlib.Path(data)
        # The certificates (.p12 files) whose clerk has changed the initial password.
        self.changed = set()
        self.start(clock_start)

    def start(self, clock_start, ports=("0", "0")):
        self.clock = clock_start
        env = dict(
            os.environ,
            XIANJIE_CLOCK_START=clock_start,
            XIANJIE_WORKBENCH_LISTEN=f"127.0.0.1:{ports[1]}",
            XIANJIE_METRICS_LISTEN="off",
            XIANJIE_SCAN_INTERVAL_MS="200",
            XIANJIE_RELOAD_INTERVAL_MS="60000",
            XIANJIE_SHUTDOWN_GRACE_MS="0",
            XIANJIE_LOG="warn",
        )
        self.process = subprocess.Popen(
            [str(BINARY), "serve", "--listen", f"127.0.0.1:{ports[0]}", "--data-dir", str(self.data)],
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
        """Stops the hub and starts it again on the same ports (so that browsers keep
        their certificates and cookies for it), its clock at `clock_start`."""
        ports = (self.grpc.rsplit(":", 1)[1], self.url.rsplit(":", 1)[1])
        self.stop()
        self.start(clock_start, ports)

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

    def clerk_p12(self, who, code=CLERK, name=CLERK_NAME, *flags):
        """The PKCS#12 file of clerk `code` of `who`, issued as `xianjie pki issue WHO
        --clerk CODE` does, with the initial password INITIAL."""
        out = self.data / f"{who}.{code}.p12"
        if not out.exists():
            self.pki("issue", who, "--clerk", code, "--name", name, "--p12", str(out), "--initial-password", INITIAL,
                     *flags)
            self.changed.discard(str(out))
        return out

    def pki(self, *args):
        """`xianjie pki …` on this hub's data directory; what it printed."""
        done = subprocess.run(
            [str(BINARY), "pki", *args, "--data-dir", str(self.data)],
            env=dict(os.environ, XIANJIE_P12_PASSWORD=PASSWORD, XIANJIE_CLOCK_START=self.clock),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

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
    """A member's browser with a clerk's certificate, signed in (unless `p12` is given:
    then with that certificate, as it is, and not signed in)."""

    def __init__(self, browser, hub, who, p12=None, signs_in=None):
        certificates = []
        self.clerk = who is not None and (p12 is None if signs_in is None else signs_in)
        self.p12 = str(p12 or hub.clerk_p12(who)) if who is not None else None
        if who is not None:
            certificates = [{"origin": hub.url, "pfxPath": self.p12, "passphrase": PASSWORD}]
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
        if self.clerk:
            self.sign_in()

    def sign_in(self):
        """Signs in with the clerk's password, changing the initial one the first time."""
        self.page.goto(self.hub.url + "/sign-in")
        first = self.p12 not in self.hub.changed
        self.page.get_by_label("登录密码").fill(INITIAL if first else CHOSEN)
        self.page.get_by_role("button", name="登录").click()
        self.page.wait_for_load_state()
        if first:
            assert self.page.url.endswith("/password"), self.page.url
            self.page.get_by_label("当前密码").fill(INITIAL)
            self.page.get_by_label("新密码（").fill(CHOSEN)
            self.page.get_by_label("再次输入新密码").fill(CHOSEN)
            self.page.get_by_role("button", name="修改密码").click()
            self.page.wait_for_load_state()
            self.hub.changed.add(self.p12)
        assert not self.page.url.endswith(("/sign-in", "/password")), self.page.url

    def open(self, path):
        response = self.page.goto(self.hub.url + path)
        if self.clerk and self.page.url.endswith("/sign-in") and not path.startswith("/sign-in"):
            # The session ended (the hub's clock moved on): sign in again, as a clerk would.
            self.sign_in()
            response = self.page.goto(self.hub.url + path)
        return response

    def shot(self, name):
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    def close(self):
        self.context.close()


@pytest.fixture
def desk(browser, hub):
    opened = []

    def open_desk(who, p12=None, signs_in=None):
        d = Desk(browser, hub, who, p12, signs_in)
        opened.append(d)
        return d

    yield open_desk
    for d in opened:
        d.close()
