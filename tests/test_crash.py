"""A build killed with SIGKILL never damages the live site, and the next build cleans up after it.

The kill is made to land at an exact point: a small runner starts `build.py`'s main() with the file
system calls the writer makes wrapped, so the process kills itself on the Nth file written into the
temporary folder, right after the live folder was moved aside during the swap, or right after the
first file of a patch (a build that changed only a few files) was moved into the live folder.
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
elif point == "patch":
    real_replace = os.replace

    def replace_then_die(source, target, *args, **kwargs):
        real_replace(source, target, *args, **kwargs)
        if ".puente-tmp-" in os.fspath(source):  # the patch is committed and its first file is in place
            os.kill(os.getpid(), signal.SIGKILL)

    os.replace = replace_then_die
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


def edit_two_pages(site):
    site.write({"content/en/topic-03.md": page("Topic 3", "Changed text 3."),
                "content/en/topic-04.md": page("Topic 4", "Changed text 4.")})


def test_a_few_changed_files_are_replaced_in_place(site):
    untouched = (site.root / "public/en/topic-07/index.html").stat().st_ino
    edit_two_pages(site)
    result = site.run()
    assert "(2 files changed)" in result.stdout
    assert (site.root / "public/en/topic-07/index.html").stat().st_ino == untouched
    assert "Changed text 4." in site.output("en/topic-04/index.html")
    assert leftovers(site) == []


def test_kill_before_a_patch_is_committed_leaves_the_previous_site(site):
    before = snapshot(site)
    edit_two_pages(site)
    assert killed_build(site, "write:1").returncode == -signal.SIGKILL
    assert snapshot(site) == before and len(leftovers(site)) == 1
    assert site.run().returncode == 0
    assert leftovers(site) == []
    assert "Changed text 4." in site.output("en/topic-04/index.html")


def test_kill_in_the_middle_of_a_patch_is_finished_by_the_next_build_even_a_failing_one(site):
    site.write({"content/en/guide/index.md": page("Guide", "The steps.", order=30),
                "content/en/guide/steps.md": page("Steps", "One step.")})
    assert site.run().returncode == 0
    edit_two_pages(site)
    (site.root / "content/en/guide/steps.md").unlink()  # a page inside a section: only its index changes
    assert killed_build(site, "patch:0").returncode == -signal.SIGKILL
    site.write({"content/en/topic-00.md": page("Topic 0", "[broken](missing.md)")})
    assert site.run().returncode == 1
    assert leftovers(site) == []
    assert "Changed text 3." in site.output("en/topic-03/index.html")
    assert "Changed text 4." in site.output("en/topic-04/index.html")
    assert not (site.root / "public/en/guide/steps").exists()
    site.write({"content/en/topic-00.md": page("Topic 0", "Text 0.")})
    assert site.run().returncode == 0
    cold = site.run("--no-cache", "--output", "cold")
    assert cold.returncode == 0
    assert snapshot(site) == {p.relative_to(site.root / "cold").as_posix(): p.read_bytes()
                              for p in sorted((site.root / "cold").rglob("*")) if p.is_file()}
