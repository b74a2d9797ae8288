"""A build killed with SIGKILL never damages the live site, and the next build cleans up after it.

The kill is made to land at an exact point: a small runner starts `build.py`'s main() with the file
system calls the writer makes wrapped, so the process kills itself on the Nth file written into the
temporary folder, or right after the live folder was moved aside during the swap.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from conftest import BILINGUAL, PROJECT, page

RUNNER = r'''
import builtins, os, signal, sys

point, limit = os.environ["PUENTE_KILL_AT"].split(":")
written = 0


def count_one(path):
    global written
    if ".puente-tmp-" in os.fspath(path):
        written += 1
        if written == int(limit):
            os.kill(os.getpid(), signal.SIGKILL)


if point == "write":
    real_open, real_link = builtins.open, os.link

    def open_counted(file, mode="r", *args, **kwargs):
        if any(flag in mode for flag in "wax"):
            count_one(file)
        return real_open(file, mode, *args, **kwargs)

    def link_counted(source, target, *args, **kwargs):
        count_one(target)
        return real_link(source, target, *args, **kwargs)

    builtins.open, os.link = open_counted, link_counted
else:
    real_rename = os.rename

    def rename_then_die(source, target, *args, **kwargs):
        real_rename(source, target, *args, **kwargs)
        if os.path.basename(target).startswith(".puente-old-"):  # the live folder has just been moved aside
            os.kill(os.getpid(), signal.SIGKILL)

    os.rename = rename_then_die

from puente.cli import main
sys.exit(main(sys.argv[1:]))
'''

PAGES = {f"content/en/topic-{n:02}.md": page(f"Topic {n}", f"Text {n}.") for n in range(20)}


@pytest.fixture
def site(scratch):
    site = scratch({**BILINGUAL, **PAGES})
    assert site.run().returncode == 0
    return site


def snapshot(site) -> dict:
    public = site.root / "public"
    return {p.relative_to(public).as_posix(): p.read_bytes() for p in sorted(public.rglob("*")) if p.is_file()}


def leftovers(site) -> list[str]:
    return sorted(p.name for p in site.root.iterdir() if p.name.startswith(".puente-"))


def killed_build(site, point: str) -> subprocess.CompletedProcess:
    runner = site.root.parent / "killed_build.py"
    runner.write_text(RUNNER)
    return subprocess.run([sys.executable, str(runner)], cwd=site.root, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(PROJECT), "PUENTE_KILL_AT": point})


def edit_every_page(site):
    site.write({rel: page(f"Topic {n}", f"Changed text {n}.") for n, rel in enumerate(PAGES)})


def test_kill_mid_write_leaves_the_previous_site_and_the_next_build_cleans_up(site):
    before = snapshot(site)
    edit_every_page(site)
    result = killed_build(site, "write:10")
    assert result.returncode == -signal.SIGKILL, result.stderr
    temp = [name for name in leftovers(site) if name.startswith(".puente-tmp-public-")]
    assert len(temp) == 1, leftovers(site)  # the kill landed mid-write: a half-written temp folder
    half = [p for p in (site.root / temp[0]).rglob("*") if p.is_file()]
    assert 0 < len(half) < len(before)
    assert snapshot(site) == before

    assert site.run().returncode == 0
    assert leftovers(site) == []
    assert "Changed text 3." in site.output("en/topic-03/index.html")


def test_kill_during_the_swap_is_undone_by_the_next_build(site):
    edit_every_page(site)
    result = killed_build(site, "swap:0")
    assert result.returncode == -signal.SIGKILL, result.stderr
    assert not (site.root / "public").exists()  # the window between moving the live folder aside and the new in
    assert [n.split("-public-")[0] for n in leftovers(site)] == [".puente-old", ".puente-tmp"]

    assert site.run().returncode == 0
    assert leftovers(site) == []
    assert "Changed text 3." in site.output("en/topic-03/index.html")


def test_a_failing_build_after_a_kill_during_the_swap_restores_the_previous_site(site):
    before = snapshot(site)
    edit_every_page(site)
    assert killed_build(site, "swap:0").returncode == -signal.SIGKILL
    site.write({"content/en/topic-00.md": page("Topic 0", "[broken](missing.md)")})
    assert site.run().returncode == 1
    assert (site.root / "public").is_dir() and snapshot(site) == before
    assert leftovers(site) == []
