"""Load a local HTML page in headless Chromium and say what is wrong with it (test helper).

Talks the Chrome DevTools Protocol over a websocket (a minimal RFC 6455 client from the
standard library: no selenium, no playwright). :func:`check_page` opens ``file://...``,
waits for the load event, and reports

- uncaught JavaScript exceptions, ``console.error`` calls, and browser log entries at level
  error (failed loads, Content-Security-Policy refusals);
- images that do not decode (``HTMLImageElement.decode()`` rejects), have no size, or are one
  flat colour;
- tables without a body row, or whose rows are all empty;

and saves a full-page screenshot. Chromium is looked up as ``$CTXBENCH_CHROMIUM``, then
``chromium`` / ``chromium-browser`` / ``google-chrome`` on PATH.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--hide-scrollbars", "--mute-audio",
         "--disable-dev-shm-usage"]  # containers often have a tiny /dev/shm

INSTALL_HINT = "Chromium not found: install it with `apt-get install chromium` (Debian) or set CTXBENCH_CHROMIUM"


def find_chromium() -> str | None:
    env = os.environ.get("CTXBENCH_CHROMIUM")
    if env:
        return env if Path(env).is_file() else None
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class WebSocket:
    """Just enough of RFC 6455 for the DevTools protocol: masked text frames out, frames in."""

    def __init__(self, url: str, timeout: float) -> None:
        assert url.startswith("ws://"), url
        hostport, _, path = url[5:].partition("/")
        host, _, port = hostport.partition(":")
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET /{path} HTTP/1.1\r\nHost: {hostport}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
                           ).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("websocket handshake: connection closed")
            head += chunk
        status = head.split(b"\r\n", 1)[0]
        if b" 101 " not in status:
            raise ConnectionError(f"websocket handshake refused: {status!r}")
        self.buf = head.split(b"\r\n\r\n", 1)[1]

    def _read(self, n: int) -> bytes:
        while len(self.buf) < n:
            chunk = self.sock.recv(max(65536, n - len(self.buf)))
            if not chunk:
                raise ConnectionError("websocket closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def send(self, text: str) -> None:
        payload = text.encode()
        header = bytes([0x81])
        n = len(payload)
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 1 << 16:
            header += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def recv(self) -> str:
        message = b""
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                (n,) = struct.unpack(">H", self._read(2))
            elif n == 127:
                (n,) = struct.unpack(">Q", self._read(8))
            mask = self._read(4) if b1 & 0x80 else b""
            data = self._read(n)
            if mask:
                data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
            opcode = b0 & 0x0F
            if opcode == 0x8:
                raise ConnectionError("websocket closed by the browser")
            if opcode in (0x9, 0xA):  # ping / pong: nothing to do for a short session
                continue
            message += data
            if b0 & 0x80:
                return message.decode()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


class Browser:
    """A headless Chromium with a fresh profile, driven over the DevTools protocol."""

    def __init__(self, binary: str, *, timeout: float = 60.0, width: int = 1280, height: int = 900) -> None:
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="ctxbench-chromium-")
        self.proc = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={self.profile}", "--remote-debugging-port=0",
             f"--window-size={width},{height}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        port_file = Path(self.profile) / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while not (port_file.is_file() and port_file.read_text().strip()):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError(f"{binary} did not start (exit status {self.proc.returncode})")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        pages = []
        while not pages:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=timeout) as r:
                pages = [t for t in json.load(r) if t.get("type") == "page"]
            if not pages:
                time.sleep(0.1)
        self.ws = WebSocket(pages[0]["webSocketDebuggerUrl"], timeout)
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        me = self.next_id
        self.ws.send(json.dumps({"id": me, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == me:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return dict(msg.get("result", {}))
            if "method" in msg:
                self.events.append(msg)

    def wait_for(self, event: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not any(e["method"] == event for e in self.events):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {event} within {timeout} s")
            self.events.append(json.loads(self.ws.recv()))

    def close(self) -> None:
        if getattr(self, "ws", None):
            self.ws.close()
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)  # the group this object started
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        shutil.rmtree(self.profile, ignore_errors=True)


#: run in the page after load: decode every image, sample its pixels, and look at every table
PROBE = r"""
(async () => {
  const images = [];
  for (const [k, img] of [...document.images].entries()) {
    const r = {index: k, alt: img.alt, width: img.naturalWidth, height: img.naturalHeight, decoded: true, colours: 0};
    try { await img.decode(); } catch (e) { r.decoded = false; }
    r.width = img.naturalWidth; r.height = img.naturalHeight;
    if (r.decoded && r.width > 0 && r.height > 0) {
      const c = document.createElement('canvas');
      c.width = Math.min(r.width, 400); c.height = Math.min(r.height, 400);
      const g = c.getContext('2d');
      g.drawImage(img, 0, 0, c.width, c.height);
      const px = g.getImageData(0, 0, c.width, c.height).data;
      const seen = new Set();
      for (let i = 0; i < px.length && seen.size < 50; i += 4 * 7) seen.add(px[i] << 16 | px[i + 1] << 8 | px[i + 2]);
      r.colours = seen.size;
    }
    images.push(r);
  }
  const tables = [...document.querySelectorAll('table')].map((t, k) => {
    const body = t.tBodies.length ? [...t.tBodies].flatMap(b => [...b.rows]) : [...t.rows].slice(1);
    const filled = body.filter(row => [...row.cells].some(td => td.textContent.trim() !== ''));
    const section = t.closest('section');
    return {index: k, section: section ? section.id : '', header: t.tHead ? t.tHead.textContent.trim() : '',
            rows: body.length, filled: filled.length};
  });
  const sections = [...document.querySelectorAll('section')].map(s => s.id);
  return {title: document.title, images, tables, sections, text: document.body.innerText.length};
})()
"""


@dataclass
class PageCheck:
    """What a page looked like in the browser."""

    errors: list[str] = field(default_factory=list)
    images: list[dict[str, Any]] = field(default_factory=list)
    tables: list[dict[str, Any]] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)
    title: str = ""
    text_length: int = 0
    screenshot: Path | None = None

    @property
    def problems(self) -> list[str]:
        """Everything wrong with the page; empty when it is fine."""
        out = [f"console/page error: {e}" for e in self.errors]
        for im in self.images:
            if not im["decoded"] or not im["width"] or not im["height"]:
                out.append(f"image {im['index']} ({im['alt']!r}) does not decode")
            elif im["colours"] < 2:
                out.append(f"image {im['index']} ({im['alt']!r}) is one flat colour")
        for t in self.tables:
            if not t["rows"] or not t["filled"]:
                out.append(f"table {t['index']} in section {t['section']!r} is empty")
        return out


def _errors(events: list[dict[str, Any]]) -> list[str]:
    out = []
    for e in events:
        p = e.get("params", {})
        if e["method"] == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            out.append(d.get("exception", {}).get("description") or d.get("text", "exception"))
        elif e["method"] == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            out.append(" ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", [])))
        elif e["method"] == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            out.append(f"{p['entry'].get('source', '')}: {p['entry'].get('text', '')}")
    return out


def check_page(page: Path, *, screenshot: Path | None = None, binary: str | None = None,
               timeout: float = 60.0) -> PageCheck:
    """Open ``page`` from disk in headless Chromium; see the module docstring."""
    binary = binary or find_chromium()
    if binary is None:
        raise FileNotFoundError(INSTALL_HINT)
    browser = Browser(binary, timeout=timeout)
    try:
        for domain in ("Page", "Runtime", "Log"):
            browser.call(f"{domain}.enable")
        browser.events.clear()
        browser.call("Page.navigate", url=Path(page).resolve().as_uri())
        browser.wait_for("Page.loadEventFired", timeout)
        result = browser.call("Runtime.evaluate", expression=PROBE, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"the probe failed: {result['exceptionDetails']}")
        value = result["result"]["value"]
        check = PageCheck(_errors(browser.events), value["images"], value["tables"], value["sections"],
                          value["title"], value["text"])
        if screenshot is not None:
            size = browser.call("Page.getLayoutMetrics")["cssContentSize"]
            shot = browser.call("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                                clip={"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 30000),
                                      "scale": 1})
            screenshot.write_bytes(base64.b64decode(shot["data"]))
            check.screenshot = screenshot
        return check
    finally:
        browser.close()
