"""Scratch bilingual sites in tmp_path, built from small dicts of files."""

from __future__ import annotations

import datetime
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
SHARED = ("templates", "static", "locales", "site.toml", "babel.cfg")

MINIMAL_SEEDS = {
    "seeds/sources.yaml": (
        "- id: cdc-naloxone\n  title: Lifesaving Naloxone\n  publisher: CDC\n"
        "  url: https://www.cdc.gov/stop-overdose/caring/naloxone.html\n  year: 2024\n  lang: [en, es]\n"
    ),
    "seeds/helplines.yaml": (
        '- id: emergency\n  number: "911"\n  tel: "911"\n  countries: [US, MX]\n  emergency_box: true\n'
        '  name: {en: "Emergency (US and Mexico)", es: "Emergencias (Estados Unidos y México)"}\n'
    ),
}


TODAY = datetime.date.today().isoformat()
"""A `reviewed` date that is never due, so scratch pages raise no review warning."""


def page(title: str, body: str = "Some text.", **meta) -> str:
    """Return a Markdown file with front matter (a description and a reviewed date of today are added
    unless given as None). The body follows the closing `---` directly, so its lines are numbered as
    they were before `reviewed` was added by default."""
    meta.setdefault("description", f"About {title}.")
    meta.setdefault("reviewed", TODAY)
    lines = [f"title: {title}"] + [f"{k}: {v}" for k, v in meta.items() if v is not None]
    return "---\n" + "\n".join(lines) + "\n---\n" + body + "\n"


class Scratch:
    """A project folder with the real templates, static files and catalogs, and the given files."""

    def __init__(self, root: Path, files: dict):
        self.root = root
        for name in SHARED:
            source = PROJECT / name
            if source.is_dir():
                shutil.copytree(source, root / name)
            else:
                shutil.copy(source, root / name)
        self.write({**MINIMAL_SEEDS, **files})

    def write(self, files: dict):
        for rel, text in files.items():
            path = self.root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(text, bytes):
                path.write_bytes(text)
            else:
                path.write_text(text, encoding="utf-8")

    def run(self, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
        """Run `python build.py ARGS` in the project folder."""
        return subprocess.run([sys.executable, str(PROJECT / "build.py"), *args], cwd=self.root,
                              capture_output=True, text=True, env={**os.environ, **(env or {}),
                                                                   "PYTHONPATH": str(PROJECT)})

    def output(self, rel: str, folder: str = "public") -> str:
        return (self.root / folder / rel).read_text(encoding="utf-8")

    def files(self, folder: str = "public") -> list[str]:
        base = self.root / folder
        return sorted(str(p.relative_to(base)) for p in base.rglob("*") if p.is_file())


@pytest.fixture
def scratch(tmp_path):
    """Make a scratch project: `scratch({"content/en/index.md": page("Home")})`."""
    def make(files: dict) -> Scratch:
        return Scratch(tmp_path / "site", files)
    return make


BILINGUAL = {
    "content/en/index.md": page("Home", "Read about [naloxone](naloxone.md) [@cdc-naloxone].", order=1),
    "content/es/index.md": page("Inicio", "Lea sobre la [naloxona](naloxona.md).", order=1),
    "content/en/naloxone.md": page("Naloxone", "## How to use it\n\nSpray it.", order=2),
    "content/es/naloxona.md": page("Naloxona", "## Cómo usarla\n\nRocíela.", order=2, translation_key="naloxone"),
}
"""A small, valid bilingual site: paired, reviewed, and citing every source of MINIMAL_SEEDS."""


# Browser tests: Debian's Chromium through Playwright, never a downloaded browser.

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def require_browser_or_skip(reason: str):
    """Skip with a reason, except where PUENTE_REQUIRE_BROWSER is set (CI), where a missing browser fails."""
    if os.environ.get("PUENTE_REQUIRE_BROWSER"):
        pytest.fail(f"{reason}, and PUENTE_REQUIRE_BROWSER is set, so browser tests may not skip")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    """A headless Debian Chromium driven by Playwright, shared by the session."""
    path = chromium_path()
    if path is None:
        require_browser_or_skip("Chromium is not installed (sudo apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require_browser_or_skip("Playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def static_server():
    """Serve a folder over HTTP on a free loopback port: `url = static_server(folder)`."""
    import functools
    import http.server
    import threading
    servers = []

    def start(folder) -> str:
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
        handler.log_message = lambda *args: None
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"
    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
