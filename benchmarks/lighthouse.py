#!/usr/bin/env python3
"""Lighthouse scores of the real site: the landing page, each home page and one content page per language.

    python benchmarks/lighthouse.py [--pages /,/en/,/es/,/en/overdose/,/es/sobredosis/] [--keep DIR]

It builds the project's content into a temporary folder, serves it on loopback with the site's own
security headers (as _headers sets them on Netlify or Cloudflare Pages), and runs
`npx -y lighthouse@12.2.3` with Debian's Chromium (CHROME_PATH) on each page, with Lighthouse's
default simulated mobile throttling. It prints the four category scores per page and exits 1 when
one misses its target: 100 for accessibility, best practices and SEO, 98 for performance.

Lighthouse 12.2.3 predates Chromium 156's trace format, so six unweighted audits end in "error"
(see ../shared/notes/tooling.md); the category scores are unaffected. A run takes about 12 s.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, PROJECT)

LIGHTHOUSE = "lighthouse@12.2.3"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
TARGETS = {"performance": 98, "accessibility": 100, "best-practices": 100, "seo": 100}
PAGES = ("/", "/en/", "/es/", "/en/overdose/", "/es/sobredosis/")
CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu --disable-background-networking"


class Handler(http.server.SimpleHTTPRequestHandler):
    """Static files with the site's security headers."""

    def log_message(self, *args):
        pass

    def end_headers(self):
        from puente.sitefiles import HEADERS
        for name, value in HEADERS.items():
            self.send_header(name, value)
        super().end_headers()


def serve(folder: str):
    """Serve `folder` on a free loopback port; return the server and its base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=folder))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def build(folder: str, base_url: str) -> None:
    result = subprocess.run([sys.executable, "build.py", "--output", folder, "--base-url", base_url],
                            cwd=PROJECT, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"the site does not build:\n{result.stdout}{result.stderr}")


def lighthouse(url: str, report: str, chrome: str) -> dict:
    """Run Lighthouse on `url`, write its JSON report to `report`, and return {category: score 0-100}."""
    command = ["npx", "-y", LIGHTHOUSE, url, "--quiet", "--output=json", f"--output-path={report}",
               f"--chrome-flags={CHROME_FLAGS}", f"--only-categories={','.join(CATEGORIES)}"]
    result = subprocess.run(command, env={**os.environ, "CHROME_PATH": chrome}, capture_output=True, text=True)
    if result.returncode != 0 or not os.path.isfile(report):
        sys.exit(f"lighthouse failed on {url}:\n{result.stderr[-2000:]}")
    with open(report, encoding="utf-8") as f:
        categories = json.load(f)["categories"]
    return {name: round(categories[name]["score"] * 100) for name in CATEGORIES}


def failing_audits(report: str) -> list[str]:
    """The scored audits that did not pass, to say why a category missed its target."""
    with open(report, encoding="utf-8") as f:
        data = json.load(f)
    weighted = {ref["id"] for c in data["categories"].values() for ref in c["auditRefs"] if ref["weight"] > 0}
    return [f"{a['id']} ({a['score']})" for a in data["audits"].values()
            if a["id"] in weighted and a["score"] is not None and a["score"] < 1]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", default=",".join(PAGES), help="comma-separated URL paths")
    parser.add_argument("--keep", help="write the JSON reports to this folder instead of a temporary one")
    args = parser.parse_args(argv)
    chrome = shutil.which("chromium") or shutil.which("chromium-browser")
    if chrome is None or shutil.which("npx") is None:
        sys.exit("needs Debian's chromium (apt-get install chromium) and npx (Node.js)")
    with tempfile.TemporaryDirectory() as tmp:
        site = os.path.join(tmp, "public")
        os.mkdir(site)
        server, base = serve(site)
        build(site, base)
        reports = args.keep or tmp
        os.makedirs(reports, exist_ok=True)
        print(f"{'page':<22}" + "".join(f"{name:>16}" for name in CATEGORIES))
        missed = []
        for path in args.pages.split(","):
            report = os.path.join(reports, "lighthouse-" + (path.strip("/").replace("/", "-") or "landing") + ".json")
            scores = lighthouse(base + path.lstrip("/"), report, chrome)
            print(f"{path:<22}" + "".join(f"{scores[name]:>16}" for name in CATEGORIES), flush=True)
            if any(scores[name] < TARGETS[name] for name in CATEGORIES):
                missed.append(f"{path}: {', '.join(failing_audits(report))}")
        server.shutdown()
    print("targets: " + ", ".join(f"{name} {score}" for name, score in TARGETS.items()))
    for line in missed:
        print("missed: " + line)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
