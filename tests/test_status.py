"""`python build.py status`: translation states, stamps, UI-string counts, stale extraction and the report."""

import json
import re
import shutil
import subprocess

import pytest

from conftest import BILINGUAL, PROJECT, page

ES = "content/es/naloxona.md"
EN = "content/en/naloxone.md"
VNU_JAR = PROJECT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
TINY_CATALOG = """msgid ""
msgstr ""
"Language: es\\n"
"Content-Type: text/plain; charset=utf-8\\n"

msgid "Done"
msgstr "Hecho"

msgid "Also done"
msgstr "También"

#, fuzzy
msgid "Check me"
msgstr "Revísame"

msgid "Not yet"
msgstr ""

#~ msgid "Gone"
#~ msgstr "Ido"
"""


def status(site, *args) -> dict:
    result = site.run("status", "--json", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def states(report: dict) -> dict:
    return {p["translation_key"]: {lang: e["state"] for lang, e in p["languages"].items()} for p in report["pages"]}


def edit_english_body(site, text: str = "Spray it into one nostril."):
    site.write({EN: page("Naloxone", f"## How to use it\n\n{text}", order=2)})


def test_mark_then_edit_source_then_mark_again(scratch):
    site = scratch(BILINGUAL)
    marked = site.run("status", "--mark", ES)
    assert marked.returncode == 0, marked.stderr
    stamp = re.fullmatch(r"stamped content/es/naloxona\.md: source_hash: (en:[0-9a-f]{12}) "
                         r"\(translated from content/en/naloxone\.md\)\n", marked.stdout).group(1)
    assert states(status(site))["naloxone"] == {"en": "present", "es": "present"}

    edit_english_body(site)
    report = status(site)
    assert states(report)["naloxone"] == {"en": "present", "es": "outdated"}
    spanish = report["pages"][1]["languages"]["es"]
    assert spanish["stamp"] == stamp and spanish["source"] == EN and spanish["current_stamp"] != stamp
    assert spanish["diff"] is None and spanish["diff_note"].startswith("no git history here")
    assert "OUTDATED (naloxona.md)" in site.run("status").stdout
    check = site.run("check")
    assert check.returncode == 0
    assert [l for l in check.stderr.splitlines() if "[outdated-translation]" in l] == [
        "content/es/naloxona.md:7: warning: content/en/naloxone.md changed after this translation was made from it: "
        "bring this page up to date (`python build.py status` shows what changed), then run `python build.py status "
        "--mark content/es/naloxona.md` [outdated-translation]"]
    assert site.run("check", "--strict").returncode == 1

    assert site.run("status", "--mark", ES).returncode == 0
    assert states(status(site))["naloxone"] == {"en": "present", "es": "present"}
    assert "[outdated-translation]" not in site.run("check").stderr


def test_whitespace_and_description_edits_do_not_outdate(scratch):
    site = scratch(BILINGUAL)
    site.run("status", "--mark", ES)
    site.write({EN: page("Naloxone  ", "\n## How to use it   \n\n\n\nSpray it.\n\n", order=2, description="New.")})
    assert states(status(site))["naloxone"]["es"] == "present"


def test_mark_changes_only_the_stamp_line(scratch):
    original = ("\ufeff---\r\ntitle: Naloxona\r\n# a comment the editor keeps\r\ntranslation_key: naloxone\r\n"
                "source_hash: en:000000000000\r\nreviewed: 2026-12-01\r\n---\r\n\r\nRocíela.\r\n")
    site = scratch({**BILINGUAL, ES: original.encode("utf-8")})
    assert site.run("status", "--mark", ES).returncode == 0
    after = (site.root / ES).read_bytes().decode("utf-8")
    new_stamp = re.search(r"source_hash: (en:[0-9a-f]{12})\r\n", after).group(1)
    assert after == original.replace("en:000000000000", new_stamp)


def test_mark_adds_the_stamp_before_the_closing_line(scratch):
    site = scratch(BILINGUAL)
    before = (site.root / ES).read_text()
    site.run("status", "--mark", ES)
    after = (site.root / ES).read_text()
    lines = before.split("\n")
    closing = lines.index("---", 1)
    stamp = after.split("\n")[closing]
    assert re.fullmatch(r"source_hash: en:[0-9a-f]{12}", stamp)
    assert after.split("\n") == lines[:closing] + [stamp] + lines[closing:]


def test_spanish_page_can_be_the_source(scratch):
    site = scratch(BILINGUAL)
    assert re.match(r"stamped content/en/naloxone\.md: source_hash: es:[0-9a-f]{12} \(translated from "
                    r"content/es/naloxona\.md\)", site.run("status", "--mark", EN).stdout)
    site.write({ES: page("Naloxona", "## Cómo usarla\n\nRocíela en la nariz.", order=2, translation_key="naloxone")})
    assert states(status(site))["naloxone"] == {"en": "outdated", "es": "present"}


def test_mark_refuses_a_page_without_a_counterpart(scratch):
    site = scratch({**BILINGUAL, "content/en/only.md": page("Only")})
    result = site.run("status", "--mark", "content/en/only.md")
    assert result.returncode == 1
    assert result.stderr == ("error: content/en/only.md: there is no page in another language with translation_key "
                             "'only' to stamp it against\n")


GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org"]


def commit(site, message: str):
    if not (site.root / ".git").exists():
        subprocess.run(["git", "init", "-q"], cwd=site.root, check=True)
    subprocess.run([*GIT, "add", "-A"], cwd=site.root, check=True)
    subprocess.run([*GIT, "commit", "-qm", message], cwd=site.root, check=True)


def test_git_history_shows_what_changed_since_the_stamp(scratch):
    site = scratch(BILINGUAL)
    commit(site, "first")
    site.run("status", "--mark", ES)
    commit(site, "stamp")
    edit_english_body(site, "Spray it. Then call 911.")
    commit(site, "edit")
    edit_english_body(site, "Spray it. Then call 911 right away.")  # and an uncommitted edit on top
    spanish = status(site)["pages"][1]["languages"]["es"]
    assert spanish["state"] == "outdated" and spanish["diff_note"].startswith("changes since commit ")
    assert [l for l in spanish["diff"].split("\n") if l[:1] in "+-"] == [
        "--- content/en/naloxone.md (stamped, commit " + spanish["diff_note"].split()[-1] + ")",
        "+++ content/en/naloxone.md (now)", "-Spray it.", "+Spray it. Then call 911 right away."]
    assert "-Spray it." in site.run("status").stdout
    site.run("status", "--html", "report")
    assert '<p lang="en">Spray it.<ins> Then call 911 right away.</ins></p>' in (site.root / "report/index.html").read_text()


def test_word_diff_marks_removed_and_added_words():
    from puente.status_html import word_diff
    assert word_diff("Call 911 <now>.", "Call 988 <now>.") == "Call <del>911</del><ins>988</ins> &lt;now&gt;."


def test_status_json_shape(scratch):
    site = scratch({**BILINGUAL, "content/en/only.md": page("Only"),
                    "locales/es/LC_MESSAGES/messages.po": TINY_CATALOG,
                    "templates/extra.html": '<p>{{ _("A brand new string") }}</p>\n'})
    report = status(site)
    assert set(report) == {"content", "languages", "summary", "pages", "ui_strings", "stale_extraction",
                           "diagnostics"}
    assert report["languages"] == ["en", "es"]
    assert report["summary"] == {"translation_keys": 3, "present": 5, "missing": 1, "outdated": 0}
    assert states(report) == {"index": {"en": "present", "es": "present"},
                              "naloxone": {"en": "present", "es": "present"},
                              "only": {"en": "present", "es": "missing"}}
    assert report["pages"][1]["languages"]["es"] == {
        "state": "present", "path": ES, "title": "Naloxona", "stamp": None, "source": None}
    assert report["pages"][2]["languages"]["es"] == {"state": "missing", "path": None}
    assert report["ui_strings"] == [{
        "lang": "es", "path": "locales/es/LC_MESSAGES/messages.po", "total": 4,
        "translated": {"count": 2, "percent": 50.0}, "fuzzy": {"count": 1, "percent": 25.0},
        "untranslated": {"count": 1, "percent": 25.0}, "obsolete": {"count": 1, "percent": 20.0},
        "fuzzy_ids": ["Check me"], "untranslated_ids": ["Not yet"], "obsolete_ids": ["Gone"]}]
    stale = report["stale_extraction"]
    assert stale["pot"] == "locales/messages.pot" and stale["unused"] == []
    assert stale["missing"] == [{"msgid": "A brand new string", "locations": ["templates/extra.html:1"]}]


def test_terminal_table(scratch):
    site = scratch({**BILINGUAL, "content/en/only.md": page("Only"),
                    "locales/es/LC_MESSAGES/messages.po": TINY_CATALOG})
    out = site.run("status").stdout
    assert out.split("\n")[:7] == [
        "Translation status of content/", "",
        "page      en                     es",
        "index     present (index.md)     present (index.md)",
        "naloxone  present (naloxone.md)  present (naloxona.md)",
        "only      present (only.md)      missing", ""]
    assert "es    4      2 (50%)     1 (25%)  1 (25%)       1 (20%)" in out
    assert "locales/messages.pot holds every string the templates use." in out


def test_html_report_is_written_only_when_asked(scratch):
    site = scratch(BILINGUAL)
    site.run("status")
    assert not (site.root / "report").exists()
    result = site.run("status", "--html", "report")
    assert result.returncode == 0 and "wrote report/index.html" in result.stderr
    html = (site.root / "report/index.html").read_text()
    assert html.startswith('<!doctype html>\n<html lang="en">')
    assert '<link rel="stylesheet" href="style.css">' in html
    assert (site.root / "report/style.css").read_bytes() == (site.root / "static/style.css").read_bytes()
    assert "<script" not in html and "style=" not in html and "<style" not in html
    assert '<span lang="es">Naloxona</span>' in html


def test_html_report_refuses_source_folders(scratch):
    site = scratch(BILINGUAL)
    for folder in (".", "content", "content/es", "templates"):
        result = site.run("status", "--html", folder)
        assert result.returncode == 2, folder
        assert "refusing to write the report" in result.stderr
    assert (site.root / "templates/base.html").exists() and not (site.root / "content/index.html").exists()


def test_render_report_html_links_the_published_stylesheet(scratch):
    from puente.config import load_config
    from puente.status import render_report_html
    site = scratch(BILINGUAL)
    html = render_report_html(load_config(str(site.root)))
    assert re.search(r'<link rel="stylesheet" href="/style\.[0-9a-f]{10}\.css">', html)
    assert html.rstrip().endswith("</html>")


def _outdated_site(scratch):
    """A site with a missing page and an outdated one whose diff comes from git."""
    site = scratch({**BILINGUAL, "content/en/only.md": page("Only")})
    site.run("status", "--mark", ES)
    commit(site, "stamped")
    edit_english_body(site)
    assert site.run("status", "--html", "report").returncode == 0
    return site


@pytest.mark.browser
def test_html_report_passes_axe(scratch, browser, static_server):
    from axe_playwright_python.sync_playwright import Axe
    site = _outdated_site(scratch)
    tab = browser.new_page()
    tab.goto(static_server(site.root / "report") + "index.html")
    assert tab.get_attribute("html", "lang") == "en"
    results = Axe().run(tab)
    tab.close()
    assert results.violations_count == 0, results.generate_report()


def test_html_report_is_valid_html(scratch):
    java = shutil.which("java")
    if java is None or not VNU_JAR.is_file():
        pytest.skip("the Nu Html Checker needs Java 11+ and `npm ci` (node_modules/vnu-jar)")
    site = _outdated_site(scratch)
    result = subprocess.run([java, "-jar", str(VNU_JAR), "--errors-only", str(site.root / "report/index.html")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
