"""The last build's memo answers a rebuild in which no source changed, and nothing else."""

from __future__ import annotations

import os
import time

import pytest

from conftest import BILINGUAL, page
from test_cache import EDITS, SITE, apply, assert_same_as_cold, snapshot

from puente import memo
from puente.config import load_config
from puente.pipeline import build


def age_sources(site, seconds: float = 60):
    """Date every source file back, as if edited long before the build: recent edits are not trusted."""
    then = time.time() - seconds
    for folder in ("content", "templates", "locales", "static", "seeds", "site.toml"):
        top = site.root / folder
        for path in [top, *top.rglob("*")] if top.is_dir() else [top]:
            os.utime(path, (then, then))


def cached_build(site, **options):
    return build(load_config(str(site.root)), cache_dir=str(site.root / ".cache"), **options)


@pytest.fixture
def remembered(scratch):
    """A site built twice with old sources, so the second build left a memo."""
    site = scratch(SITE)
    age_sources(site)
    assert not cached_build(site).recalled
    return site


def test_no_change_rebuild_is_answered_by_the_memo_with_the_same_diagnostics(remembered):
    first = cached_build(remembered, processes=1)
    again = cached_build(remembered)
    assert again.recalled and not first.recalled or first.recalled
    assert again.diagnostics == first.diagnostics and again.counts == first.counts
    assert again.written and again.changed == 0


def test_the_cli_reports_a_remembered_build_like_any_other(remembered):
    cold = remembered.run("--no-cache", "--output", "cold")
    result = remembered.run()
    assert result.returncode == 0
    assert result.stdout.replace("public is up to date", "") .split(" in ")[0] == cold.stdout.split(" in ")[0]
    assert result.stderr == cold.stderr


@pytest.mark.parametrize("name", sorted(EDITS))
def test_any_edit_is_built_again_and_matches_a_cold_build(remembered, name):
    assert cached_build(remembered).recalled
    apply(remembered, EDITS[name])
    age_sources(remembered)
    assert not cached_build(remembered).recalled
    assert_same_as_cold(remembered)


def test_an_edit_that_keeps_size_and_time_is_not_trusted_when_recent(scratch):
    site = scratch(SITE)
    cached_build(site)  # sources are seconds old: too recent for the memo to vouch for them
    path = site.root / "content/en/naloxone.md"
    stat = path.stat()
    path.write_text(path.read_text().replace("Spray it.", "Spray IT."))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert not cached_build(site).recalled
    assert "Spray IT." in site.output("en/naloxone/index.html")


def test_a_changed_output_folder_is_built_again(remembered):
    (remembered.root / "public/en/index.html").write_text("vandalised")
    assert not cached_build(remembered).recalled
    assert_same_as_cold(remembered)
    (remembered.root / "public/extra.html").write_text("left by someone")
    assert not cached_build(remembered).recalled
    assert not (remembered.root / "public/extra.html").exists()


def test_a_new_day_checks_again(remembered, monkeypatch):
    monkeypatch.setattr(memo, "today", lambda: "2999-01-01")
    assert not cached_build(remembered).recalled


def test_other_settings_are_not_answered_by_the_memo(remembered):
    assert cached_build(remembered).recalled
    other = build(load_config(str(remembered.root), base_url="https://example.org/other/"),
                  cache_dir=str(remembered.root / ".cache"))
    assert not other.recalled
    assert "https://example.org/other/" in remembered.output("sitemap.xml")


def test_strict_fails_on_remembered_warnings_and_leaves_the_site(scratch):
    site = scratch({**BILINGUAL, "content/en/index.md": page("Home", "Read about [naloxone](naloxone.md).", order=1)})
    age_sources(site)
    cached_build(site)
    assert any(d.code == "unused-source" for d in cached_build(site).diagnostics)
    before = snapshot(site)
    result = cached_build(site, strict=True)
    assert result.recalled and result.failed(strict=True) and not result.written
    assert snapshot(site) == before


def test_a_damaged_cache_is_still_reported(remembered):
    (remembered.root / ".cache/build.pickle").write_bytes(b"not a pickle")
    result = cached_build(remembered)
    assert not result.recalled
    assert any(d.code == "cache-discarded" for d in result.diagnostics)


def test_a_damaged_memo_is_ignored(remembered):
    (remembered.root / ".cache" / memo.FILE_NAME).write_bytes(b"\x80\x05garbage")
    assert not cached_build(remembered).recalled
    assert_same_as_cold(remembered)
