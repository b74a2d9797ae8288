#!/usr/bin/env python3
"""Latency of the live preview: from saving a file to a waiting client having the new page.

    python benchmarks/serve_latency.py [--sites project,1000] [--edits 7] [--pause 1.0]

For each site it starts `python build.py serve --port 0` in a private copy (the working tree and the
shared corpus are never edited), from a copy of the generator taken at start: the build cache is
tied to the generator's source, so anyone saving puente/*.py during a run would empty it and time
cold builds. Then it acts like an open browser tab: it connects to livereload's
socket, says hello, and waits. Each edit appends one sentence to one page (open/write/close, as
an editor's save), then times

- save -> reload: until livereload tells the tab to reload;
- save -> new page: until the tab's GET of the page returns the new sentence (what a reader sees);
- rebuild: the time the server itself logs for the build ("rebuilt N files ... in X s").

The first edit is a warm-up. Sites: `project` is this project's own content; a number N is the
synthetic corpus of N pages per language (../shared/bench/make_corpus.py, with its images copied
into static/ and an index.md per language). It prints median, min and max of every edit after
the warm-up and appends one JSON line per edit to benchmarks/results/serve.jsonl.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import queue
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.normpath(os.path.join(PROJECT, "..", "shared", "bench"))
PEERS = os.environ.get("PEERS") or os.path.join(tempfile.gettempdir(), "peers")
PROJECT_PARTS = ("templates", "static", "locales", "seeds", "site.toml")
INDEX = {"en": "---\ntitle: Home\ndescription: The home page.\n---\n\nWelcome.\n",
         "es": "---\ntitle: Inicio\ndescription: La portada.\n---\n\nBienvenida.\n"}


def make_site(name: str, folder: str) -> tuple[str, str, str]:
    """Lay out a private site; return (site folder, page file to edit, its URL path)."""
    site = os.path.join(folder, f"site-{name}")
    os.makedirs(site)
    for part in PROJECT_PARTS:
        src = os.path.join(PROJECT, part)
        (shutil.copytree if os.path.isdir(src) else shutil.copy)(src, os.path.join(site, part))
    if name == "project":
        shutil.copytree(os.path.join(PROJECT, "content"), os.path.join(site, "content"))
        return site, os.path.join(site, "content", "en", "naloxone.md"), "/en/naloxone/"
    n = int(name)
    source = corpus(n)
    shutil.copytree(os.path.join(source, "content"), os.path.join(site, "content"))
    shutil.copytree(os.path.join(source, "static", "images"), os.path.join(site, "static", "images"))
    for lang, text in INDEX.items():
        index = os.path.join(site, "content", lang, "index.md")
        if not os.path.exists(index):
            with open(index, "w", encoding="utf-8") as f:
                f.write(text)
    page = f"page-{n // 5 + 7:04d}"  # the page ../shared/bench/serve_bench.py edits
    return site, os.path.join(site, "content", "en", "section-2", f"{page}.md"), f"/en/section-2/{page}/"


def corpus(n: int) -> str:
    path = os.path.join(PEERS, "corpus", f"n{n}")
    if not os.path.isdir(os.path.join(path, "content")):
        subprocess.run([sys.executable, os.path.join(BENCH, "make_corpus.py"), path, str(n)], check=True,
                       stdout=subprocess.DEVNULL)
    return path


def freeze_code(folder: str) -> str:
    """Copy build.py and puente/ as they are now; return the copied build.py."""
    code = os.path.join(folder, "code")
    shutil.copytree(os.path.join(PROJECT, "puente"), os.path.join(code, "puente"),
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(os.path.join(PROJECT, "build.py"), code)
    return os.path.join(code, "build.py")


class Server:
    """`build.py serve --port 0` in a site folder, its output read line by line."""

    def __init__(self, site: str, build_py: str):
        self.process = subprocess.Popen([sys.executable, build_py, "serve", "--port", "0"],
                                        cwd=site, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                        env={**os.environ, "PYTHONUNBUFFERED": "1"}, start_new_session=True)
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        started = time.perf_counter()
        built = self.wait_for(r"^built \d+ files? in (\d+\.\d+) s", 1800)
        self.first_build = float(built.group(1))
        self.url = self.wait_for(r"^Preview at (http://\S+/) ", 60).group(1)
        self.ready_after = time.perf_counter() - started

    def _read(self):
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def wait_for(self, pattern: str, timeout: float):
        deadline = time.perf_counter() + timeout
        while True:
            line = self.lines.get(timeout=max(0.01, deadline - time.perf_counter()))
            if line is None:
                raise RuntimeError("the preview exited")
            found = re.search(pattern, line)
            if found:
                return found

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


async def tab(url: str):
    """Connect to livereload's socket as livereload.js does, and be registered as a waiting tab."""
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect
    host = url.split("//", 1)[1].rstrip("/")
    socket = await websocket_connect(HTTPRequest(f"ws://{host}/livereload", headers={"Origin": url.rstrip("/")}))
    socket.write_message(json.dumps({"command": "hello", "protocols": ["http://livereload.com/protocols/official-7"]}))
    await socket.read_message()
    socket.write_message(json.dumps({"command": "info", "url": url, "plugins": {}}))
    return socket


async def fetch(url: str) -> str:
    from tornado.httpclient import AsyncHTTPClient
    response = await AsyncHTTPClient().fetch(url, raise_error=False)
    return response.body.decode("utf-8", "replace")


async def one_edit(socket, server: Server, path: str, page_url: str, marker: str) -> dict:
    """Save, then wait as a tab would: for the reload message, then for the page."""
    with open(path, "a", encoding="utf-8") as f:
        f.write(f"\n{marker}\n")
    saved = time.perf_counter()
    while True:
        message = json.loads(await asyncio.wait_for(socket.read_message(), 1800))
        if message.get("command") == "reload":
            break
    reloaded = time.perf_counter()
    while marker not in await fetch(page_url):  # it is there at once: the build finished before the reload
        await asyncio.sleep(0.005)
    served = time.perf_counter()
    rebuilt = server.wait_for(r"^rebuilt \d+ files? after .* in (\d+\.\d+) s", 60)
    return {"reload_s": reloaded - saved, "page_s": served - saved, "rebuild_s": float(rebuilt.group(1))}


async def measure(server: Server, path: str, url_path: str, edits: int, pause: float) -> list[dict]:
    socket = await tab(server.url)
    await asyncio.sleep(0.5)  # let the server register the tab
    records = []
    for k in range(edits):
        record = await one_edit(socket, server, path, server.url.rstrip("/") + url_path,
                                f"Edited sentence number {k} at {time.time():.6f}.")
        records.append({**record, "edit": k, "warmup": k == 0})
        print(f"  edit {k}{' (warm-up)' if k == 0 else ''}: reload {record['reload_s']:.3f} s, "
              f"page {record['page_s']:.3f} s, server rebuild {record['rebuild_s']:.3f} s", file=sys.stderr)
        await asyncio.sleep(pause)
    socket.close()
    return records


def summary(values) -> str:
    return f"{statistics.median(values):.3f} / {min(values):.3f} / {max(values):.3f}"


def main():
    cli = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    cli.add_argument("--sites", default="project,1000", help="comma-separated: project and/or pages per language")
    cli.add_argument("--edits", type=int, default=7, help="edits per site, the first one a warm-up")
    cli.add_argument("--pause", type=float, default=1.0, help="seconds between edits")
    args = cli.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="serve-latency-") as folder:
        build_py = freeze_code(folder)
        for name in args.sites.split(","):
            site, path, url_path = make_site(name, folder)
            pages = sum(len(files) for _, _, files in os.walk(os.path.join(site, "content")))
            print(f"{name}: {pages} pages, editing {os.path.relpath(path, site)}", file=sys.stderr)
            server = Server(site, build_py)
            try:
                print(f"  first build {server.first_build:.2f} s", file=sys.stderr)
                records = asyncio.run(measure(server, path, url_path, args.edits, args.pause))
            finally:
                server.stop()
            save(name, pages, server, records)
            rows.append((name, pages, server.first_build, [r for r in records if not r["warmup"]]))
    print_table(rows)


def save(name: str, pages: int, server: Server, records):
    folder = os.path.join(PROJECT, "benchmarks", "results")
    os.makedirs(folder, exist_ok=True)
    session = time.strftime("%Y-%m-%dT%H:%M:%S")
    with open(os.path.join(folder, "serve.jsonl"), "a") as f:
        for record in records:
            f.write(json.dumps({"session": session, "site": name, "pages": pages,
                                "first_build_s": server.first_build, **record}) + "\n")


def print_table(rows):
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"{len(rows[0][3]) if rows else 0} edits per site after a warm-up; load average at the end: {load} "
          f"on {os.cpu_count()} cores\n")
    print("| site | pages | first build | save -> reload (median / min / max) | save -> new page | "
          "server rebuild |")
    print("|---|---|---|---|---|---|")
    for name, pages, first, records in rows:
        print(f"| {name} | {pages} | {first:.2f} s | {summary([r['reload_s'] for r in records])} s | "
              f"{summary([r['page_s'] for r in records])} s | {summary([r['rebuild_s'] for r in records])} s |")


if __name__ == "__main__":
    main()
