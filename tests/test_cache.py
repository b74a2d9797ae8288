"""The persistent cache: a cached build is byte-identical to a cold one, and redoes only what changed."""

import os
import pickle
import re
import time

import pytest

from conftest import BILINGUAL, Scratch, page
from puente.load import RACY_NS

SITE = {
    **BILINGUAL,
    "content/en/guide/index.md": page("Guide", "Start with [steps](steps.md).", order=3),
    "content/en/guide/steps.md": page("Steps", "## First\n\nGo [home](../index.md)."),
    "content/es/guia/index.md": page("Guía", "Vea los [pasos](pasos.md).", order=3, translation_key="guide/index"),
    "content/es/guia/pasos.md": page("Pasos", "Vuelva al [inicio](../index.md).", translation_key="guide/steps"),
}


def snapshot(site, folder="public") -> dict:
    return {f: (site.root / folder / f).read_bytes() for f in site.files(folder) if f != ".puente-output"}


def changed(result) -> int:
    match = re.search(r"\((\d+) files changed\)", result.stdout)
    return int(match.group(1)) if match else 0


def assert_same_as_cold(site):
    """Build cold into another folder and compare every byte with the cached build in public/."""
    cold = site.run("--no-cache", "--output", "cold")
    assert cold.returncode == 0, cold.stderr
    assert snapshot(site) == snapshot(site, "cold")


EDITS = {
    "body": {"content/en/guide/steps.md": page("Steps", "## First\n\nGo [home](../index.md) now.")},
    "title": {"content/en/guide/steps.md": page("First steps", "## First\n\nGo [home](../index.md).")},
    "slug of a linked page": {"content/es/guia/pasos.md": page("Pasos", "Vuelva al [inicio](../index.md).",
                                                                translation_key="guide/steps", slug="los-pasos")},
    "order": {"content/en/naloxone.md": page("Naloxone", "## How to use it\n\nSpray it.", order=9)},
    "new page": {"content/en/tips.md": page("Tips", "See [steps](guide/steps.md)."),
                 "content/en/index.md": page("Home", "Read about [naloxone](naloxone.md) and [tips](tips.md).",
                                             order=1)},
    "template": {"templates/page.html": None},
    "catalog": {"locales/es/LC_MESSAGES/messages.po": None},
    "helplines": {"seeds/helplines.yaml": None},
    "stylesheet": {"static/style.css": None},
}


def apply(site, edit: dict):
    for rel, text in edit.items():
        path = site.root / rel
        if text is None:  # append something harmless that still changes the output
            comment = {".html": "\n<!-- edited -->\n", ".po": "", ".yaml": "", ".css": "\n/* edited */\n"}
            if rel.endswith(".po"):
                path.write_text(path.read_text().replace('msgstr "Inicio"', 'msgstr "Portada"'))
            elif rel.endswith(".yaml"):
                path.write_text(path.read_text().replace("Emergencias (", "Emergencia (") )
            else:
                path.write_text(path.read_text() + comment[path.suffix])
        else:
            site.write({rel: text})


@pytest.mark.parametrize("name", sorted(EDITS))
def test_cached_build_after_an_edit_is_byte_identical_to_a_cold_one(scratch, name):
    site = scratch(SITE)
    assert site.run().returncode == 0
    apply(site, EDITS[name])
    result = site.run()
    assert result.returncode == 0, result.stderr
    assert_same_as_cold(site)


def test_slug_change_updates_links_in_other_pages(scratch):
    site = scratch(SITE)
    site.run()
    apply(site, EDITS["slug of a linked page"])
    site.run()
    assert '<a href="/es/guia/los-pasos/">pasos</a>' in site.output("es/guia/index.html")


def test_no_change_rebuild_writes_nothing(scratch):
    site = scratch(SITE)
    site.run()
    before = {f: (site.root / "public" / f).stat().st_mtime_ns for f in site.files()}
    result = site.run()
    assert result.stdout.rstrip().endswith("public is up to date")
    assert {f: (site.root / "public" / f).stat().st_mtime_ns for f in site.files()} == before


def test_body_edit_rewrites_only_that_page(scratch):
    site = scratch(SITE)
    site.run()
    apply(site, EDITS["body"])
    assert changed(site.run()) == 1


def test_template_edit_rewrites_only_what_uses_it(scratch):
    site = scratch(SITE)
    site.run()
    part = site.root / "templates/404_part.html"
    part.write_text(part.read_text() + "\n<!-- edited -->\n")
    assert changed(site.run()) == 1  # 404.html only
    assert_same_as_cold(site)


def test_spanish_catalog_edit_leaves_english_pages_alone(scratch):
    site = scratch(SITE)
    site.run()
    english = {f: (site.root / "public" / f).stat().st_ino for f in site.files() if f.startswith("en/")}
    apply(site, EDITS["catalog"])
    site.run()
    assert {f: (site.root / "public" / f).stat().st_ino for f in site.files() if f.startswith("en/")} == english
    assert "Portada" in site.output("es/index.html")


def test_edited_output_file_is_restored(scratch):
    site = scratch(SITE)
    site.run()
    (site.root / "public/en/index.html").write_text("vandalised")
    site.run()
    assert_same_as_cold(site)


@pytest.mark.parametrize("damage, why", [
    (lambda path: path.write_bytes(b"not a pickle at all"), "it cannot be read (UnpicklingError)"),
    (lambda path: path.write_bytes(path.read_bytes()[: path.stat().st_size // 2]), "it cannot be read"),
    (lambda path: path.write_bytes(pickle.dumps({"format": 1, "version": "0.0.1-other", "tables": {}})),
     "it was made by another version of the generator"),
    (lambda path: path.write_bytes(pickle.dumps({"format": 999})), "its format is not this version's"),
])
def test_damaged_cache_is_discarded_with_a_note(scratch, damage, why):
    site = scratch(SITE)
    site.run()
    damage(site.root / ".cache/build.pickle")
    result = site.run()
    assert result.returncode == 0
    notes = [l for l in result.stderr.splitlines() if "[cache-discarded]" in l]
    assert len(notes) == 1
    assert notes[0].startswith(f".cache/build.pickle: note: the build cache was discarded because {why}")
    assert notes[0].endswith("; this build starts cold [cache-discarded]")
    assert_same_as_cold(site)
    assert "[cache-discarded]" not in site.run().stderr


def test_cache_folder_can_move_and_no_cache_keeps_none(scratch):
    site = scratch(SITE)
    site.run("--cache", "elsewhere")
    assert (site.root / "elsewhere/build.pickle").exists() and not (site.root / ".cache/build.pickle").exists()
    site.run("--no-cache", "--output", "cold")
    assert not (site.root / ".cache/build.pickle").exists()


def test_parallel_build_is_byte_identical_to_serial(scratch):
    pages = {f"content/en/many/p{i:03}.md": page(f"Page {i}", f"## Part {i}\n\nText [next](p{(i + 1) % 60:03}.md).")
             for i in range(60)}
    site = scratch({**SITE, **pages})
    assert site.run("--no-cache", "--jobs", "1", "--output", "serial").returncode == 0
    assert site.run("--no-cache", "--jobs", "2", "--output", "parallel").returncode == 0
    assert snapshot(site, "serial") == snapshot(site, "parallel")


def test_link_to_a_page_that_failed_to_load_then_vanished_is_reported(scratch):
    site = scratch(SITE)
    site.run()
    site.write({"content/en/naloxone.md": "---\ntitle: [Naloxone\n---\n\nSpray it.\n"})
    first = site.run()
    assert first.returncode == 1 and "[broken-link]" not in first.stderr
    (site.root / "content/en/naloxone.md").unlink()
    second = site.run()
    assert "content/en/index.md:7: error: link to 'naloxone.md': there is no page content/en/naloxone.md" in second.stderr


def test_an_edit_appends_to_the_journal_and_compaction_keeps_results_identical(scratch):
    site = scratch(SITE)
    site.run()
    base = site.root / ".cache/build.pickle"
    journal = site.root / ".cache/build.pickle.journal"
    stamp = base.stat().st_mtime_ns
    appended = compacted = False
    for i in range(12):  # enough edits for the journal to outgrow a quarter of the base and be compacted
        site.write({"content/en/guide/steps.md": page("Steps", f"## First\n\nGo [home](../index.md), {i}.")})
        assert site.run().returncode == 0
        assert_same_as_cold(site)
        appended |= journal.exists() and base.stat().st_mtime_ns == stamp
        compacted |= appended and not journal.exists()
    assert appended and compacted
    assert site.run().stdout.rstrip().endswith("public is up to date")


def test_no_change_build_writes_no_journal(scratch):
    site = scratch(SITE)
    site.run()
    site.write({"content/en/guide/steps.md": page("Steps", "## First\n\nGo [home](../index.md) now.")})
    # A file saved within RACY_NS of a build is read again by the next one, which then records its stat: with a
    # fast start (bytecode compiled), that next build was the one measured below.
    time.sleep(2 * RACY_NS / 1e9)
    site.run()
    journal = site.root / ".cache/build.pickle.journal"
    size = journal.stat().st_size if journal.exists() else 0
    site.run()
    assert (journal.stat().st_size if journal.exists() else 0) == size


def test_truncated_journal_is_discarded_with_a_note(scratch):
    site = scratch(SITE)
    site.run()
    site.write({"content/en/guide/steps.md": page("Steps", "## First\n\nGo [home](../index.md) now.")})
    # A file saved within RACY_NS of a build is read again by the next one, which then records its stat: with a
    # fast start (bytecode compiled), that next build was the one measured below.
    time.sleep(2 * RACY_NS / 1e9)
    site.run()
    journal = site.root / ".cache/build.pickle.journal"
    assert journal.exists()
    journal.write_bytes(journal.read_bytes()[:-7])
    result = site.run()
    assert "the build cache was discarded because it cannot be read" in result.stderr
    assert_same_as_cold(site)


def test_builds_reusing_the_last_one_in_memory_match_cold_builds_after_every_edit(scratch):
    """The preview's way: each build takes the previous one's cache in memory, which also remembers
    each file's stat, the compiled templates and each page's last rendering, and is told which files
    the watcher saw change (a new page among them)."""
    import time
    from puente.config import load_config
    from puente.pipeline import build

    def outputs(result):
        return {o.path: o.data for o in result.outputs}, result.diagnostics

    site = scratch(SITE)
    time.sleep(0.2)  # older than RACY_NS: unchanged files are then taken from memory, not read
    previous = build(load_config(str(site.root)), write=False)
    findings = {  # edits that change what the checks find, on the page and on its translation
        "a hotline only in English": {"content/en/naloxone.md": page("Naloxone", "## How to use it\n\nCall "
                                                                     "1-800-222-1222 and spray it.", order=2)},
        "the hotline in Spanish too": {"content/es/naloxona.md": page("Naloxona", "## Cómo usarla\n\nLlame al "
                                                                      "1-800-222-1222 y rocíela.", order=2,
                                                                      translation_key="naloxone")},
    }
    for name, edit in [*sorted(EDITS.items()), *findings.items()]:
        apply(site, edit)
        # What the watcher reports: the edited files, then nothing (a build once the edit is not "racy").
        for changed in ({str(site.root / rel) for rel in edit}, set()):
            config = load_config(str(site.root))
            warm = build(config, write=False, cache=previous.cache.successor(), changed=frozenset(changed))
            cold = build(config, write=False)
            assert outputs(warm) == outputs(cold), (name, set(cold.diagnostics) ^ set(warm.diagnostics))
            previous = warm
            time.sleep(0.2)
    assert previous.cache.memory["files"] and previous.cache.memory["rendered"] and previous.cache.memory["findings"]
    assert not any(d.code == "fact-parity" for d in cold.diagnostics)


def _rewrite_keeping_stat(path, text: str, mtime_ns: int | None = None):
    """Change a file's bytes in place, keeping its size and inode, and give it `mtime_ns` (else its old one)."""
    before = path.stat()
    assert len(text.encode()) == before.st_size
    with open(path, "r+", encoding="utf-8") as f:  # in place: the inode stays
        f.write(text)
    os.utime(path, ns=(before.st_atime_ns, mtime_ns or before.st_mtime_ns))


def test_a_rebuild_trusts_an_unchanged_stat_as_git_does(scratch):
    """A page whose size, modification time and inode are unchanged is not read again, the way git's
    index trusts a work tree: so a rebuild reads only what was edited."""
    site = scratch(SITE)
    time.sleep(0.2)  # older than load.RACY_NS, so the next build may trust their stat
    assert site.run().returncode == 0
    steps = site.root / "content/en/guide/steps.md"
    _rewrite_keeping_stat(steps, steps.read_text().replace("First", "Fresh"))
    site.write({"content/es/guia/pasos.md": page("Pasos", "Vuelva al [inicio](../index.md) ya.",
                                                 translation_key="guide/steps")})
    assert site.run().returncode == 0
    assert "Fresh" not in site.output("en/guide/steps/index.html")  # its stat vouched for it
    assert "ya." in site.output("es/guia/pasos/index.html")
    assert site.run("--no-cache", "--output", "cold").returncode == 0
    assert "Fresh" in site.output("en/guide/steps/index.html", "cold")


def test_a_file_modified_just_before_a_build_is_read_again_even_with_the_same_stat(scratch):
    """A file modified within the clock's granularity of a build may change again keeping its size and
    time ("racily clean", in git's words): its stat is not trusted, so the next build reads it."""
    site = scratch(SITE)
    steps = site.root / "content/en/guide/steps.md"
    racy = time.time_ns() + 3_600 * 10**9  # "modified" after the build starts, as a clock tick can make it seem
    os.utime(steps, ns=(racy, racy))
    assert site.run().returncode == 0
    _rewrite_keeping_stat(steps, steps.read_text().replace("First", "Fresh"), racy)
    site.write({"content/es/guia/pasos.md": page("Pasos", "Vuelva al [inicio](../index.md) ya.",
                                                 translation_key="guide/steps")})
    assert site.run().returncode == 0
    assert "Fresh" in site.output("en/guide/steps/index.html")
    assert_same_as_cold(site)


def test_a_one_page_edit_adds_as_much_to_the_journal_on_a_big_site_as_on_a_small_one(tmp_path):
    """What an edit appends to the cache's journal is what changed, not a table per page of the site."""
    def journal_growth(count: int) -> int:
        pages = {f"content/en/many/p{i:03}.md": page(f"Page {i}", f"## Part {i}\n\nText.") for i in range(count)}
        site = Scratch(tmp_path / f"site-{count}", {**SITE, **pages})
        site.run()
        site.write({"content/en/many/p000.md": page("Page 0", "## Part 0\n\nText, edited.")})
        site.run()
        journal = site.root / ".cache/build.pickle.journal"
        before = journal.stat().st_size if journal.exists() else 0
        site.write({"content/en/many/p000.md": page("Page 0", "## Part 0\n\nText, edited again.")})
        assert site.run().returncode == 0
        return journal.stat().st_size - before

    small, big = journal_growth(10), journal_growth(120)
    assert big < 1.3 * small, (small, big)


def test_the_cache_keeps_no_page_html_yet_a_new_output_folder_gets_every_page(scratch):
    """Pages' HTML lives in the output folder, known to the cache by its digest: a warm build into a fresh
    folder (CI restoring only .cache/) makes it again from the cached Markdown, byte for byte."""
    site = scratch(SITE)
    assert site.run().returncode == 0
    cache = (site.root / ".cache/build.pickle").read_bytes()
    assert b"<title>Steps" in (site.root / "public/en/guide/steps/index.html").read_bytes()
    assert b"<title>Steps" not in cache  # only the landing and 404 pages, bilingual, are kept whole
    fresh = site.run("--output", "fresh")
    assert fresh.returncode == 0, fresh.stderr
    assert snapshot(site, "fresh") == snapshot(site) and snapshot(site, "fresh")


def test_a_failed_parallel_build_leaves_nothing_beside_the_output(scratch):
    """Pages are spooled next to the output folder as workers render them; an error removes the spool."""
    pages = {f"content/en/many/p{i:03}.md": page(f"Page {i}", f"## Part {i}\n\nText.") for i in range(60)}
    site = scratch({**SITE, **pages})
    assert site.run("--jobs", "2").returncode == 0
    before = snapshot(site)
    site.write({"content/en/many/p001.md": page("Page 1", "See [nothing](missing.md).")})
    failed = site.run("--jobs", "2", "--no-cache")
    assert failed.returncode == 1 and "broken-link" in failed.stderr
    assert not [n for n in os.listdir(site.root) if n.startswith(".puente")]
    assert snapshot(site) == before
