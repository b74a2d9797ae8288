"""Bad input, from outside: one clear diagnostic, exit status 1, the previous site untouched, no traceback.

Each test starts from a project that built cleanly, breaks one thing, runs `build.py` (in-process, through
the same `main()` the script calls, for speed) and checks the one error line the communicator sees.
The broken file is a page nothing links to, so its own diagnostic is the only error.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import sys

import pytest

from conftest import BILINGUAL, PROJECT, Scratch, page

from puente.cli import main

TIPS = "content/en/tips.md"
PO = "locales/es/LC_MESSAGES/messages.po"


class Project:
    """A copy of a project that has already been built once."""

    def __init__(self, root):
        self.root = root

    def write(self, files: dict):
        for rel, data in files.items():
            path = self.root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))

    def edit(self, rel: str, old: str, new: str) -> int:
        """Replace the first `old` in a file; return the 1-based line where it was."""
        path = self.root / rel
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} is not in {rel}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
        return text[: text.index(old)].count("\n") + 1

    def append(self, rel: str, line: str) -> int:
        """Add a line at the end of a file; return its 1-based number."""
        path = self.root / rel
        text = path.read_text(encoding="utf-8")
        text += "" if text.endswith("\n") else "\n"
        path.write_text(text + line + "\n", encoding="utf-8")
        return text.count("\n") + 1

    def build(self, *args: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.chdir(self.root), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["build", *args])
        return code, out.getvalue(), err.getvalue()

    def snapshot(self) -> dict:
        public = self.root / "public"
        return {p.relative_to(public).as_posix(): p.read_bytes() for p in sorted(public.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad-input") / "site"
    Scratch(root, {**BILINGUAL, TIPS: page("Tips", "Carry naloxone.")})
    code, _, err = Project(root).build()
    assert code == 0, err
    return root


@pytest.fixture
def site(built, tmp_path) -> Project:
    root = tmp_path / "site"
    shutil.copytree(built, root, symlinks=True)
    return Project(root)


def errors_of(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ": error: " in line]


def assert_refused(site: Project, *expected: str, summary: bool = True):
    """The build prints exactly these errors, exits 1 and leaves public/ byte for byte as it was."""
    before = site.snapshot()
    code, out, err = site.build()
    assert errors_of(err) == list(expected), err
    assert code == 1
    assert "Traceback" not in err
    if summary:
        assert "nothing written, public left as it was" in out
    assert site.snapshot() == before
    assert not [p.name for p in site.root.iterdir() if p.name.startswith(".puente-")]


# Front matter

def test_unterminated_front_matter(site):
    site.write({TIPS: "---\ntitle: Tips\ndescription: Short.\n\nCarry naloxone.\n"})
    assert_refused(site, "content/en/tips.md:1: error: the front matter that starts here is never closed: add a line "
                         "'---' after the last field [unterminated-front-matter]")


def test_a_page_that_fails_to_load_is_not_also_a_broken_link(site):
    site.write({"content/en/naloxone.md": "---\ntitle: Naloxone\ndescription: [Short\n---\n\nSpray it.\n"})
    assert_refused(site, "content/en/naloxone.md:3: error: invalid front matter: did not find expected ',' or ']': a "
                         "value that starts with [ is read as a list: put the whole value in quotes "
                         "[front-matter-syntax]")


def test_front_matter_value_with_colon_must_be_quoted(site):
    site.write({TIPS: "---\ntitle: Tips: carry naloxone\ndescription: Short.\n---\n\nText.\n"})
    assert_refused(site, "content/en/tips.md:2: error: invalid front matter: mapping values are not allowed in this "
                         "context: a value that contains ': ' must be put in quotes, e.g. title: \"Naloxone: how to "
                         "use it\", and every field must start at the beginning of its line [front-matter-syntax]")


def test_unclosed_list_points_at_the_line_that_opened_it(site):
    site.write({TIPS: "---\ntitle: Tips\ndescription: [Short\norder: 3\n---\n\nText.\n"})
    assert_refused(site, "content/en/tips.md:3: error: invalid front matter: did not find expected ',' or ']': a "
                         "value that starts with [ is read as a list: put the whole value in quotes "
                         "[front-matter-syntax]")


def test_tab_indentation(site):
    site.write({TIPS: "---\ntitle: Tips\n\tdescription: Short.\n---\n\nText.\n"})
    assert_refused(site, "content/en/tips.md:3: error: invalid front matter: found a tab character that violates "
                         "indentation: indent with spaces, not tabs [front-matter-syntax]")


def test_control_character_in_front_matter(site):
    site.write({TIPS: "---\ntitle: Tips\ndescription: Sho\x01rt.\n---\n\nText.\n"})
    assert_refused(site, "content/en/tips.md:3: error: the front matter holds an invisible control character "
                         "(U+0001), often pasted from another program: delete it [front-matter-syntax]")


def test_front_matter_that_is_not_a_mapping(site):
    site.write({TIPS: "---\n- Tips\n- Short.\n---\n\nText.\n"})
    assert_refused(site, "content/en/tips.md:2: error: the front matter must be 'key: value' lines, e.g. "
                         "'title: Naloxone' [front-matter-not-mapping]")


def test_title_that_yaml_reads_as_a_list(site):
    site.write({TIPS: "---\ndescription: Short.\ntitle: [a, b]\n---\n\nText.\n"})
    assert_refused(site, "content/en/tips.md:3: error: title must be text, but YAML reads [a, b] as a list: put the "
                         "whole value in quotes, e.g. title: \"[a, b]\" [front-matter-type]")


def test_order_that_is_not_a_number(site):
    site.write({TIPS: page("Tips", order='"first"')})
    assert_refused(site, "content/en/tips.md:3: error: order must be a whole number, not \"first\", e.g. order: 3 "
                         "[front-matter-type]")


def test_impossible_date_is_reported_on_its_own_line(site):
    site.write({TIPS: page("Tips", description="Updated 2020-01-01.", reviewed="2023-13-45")})
    assert_refused(site, "content/en/tips.md:4: error: '2023-13-45' is not a real date (month must be in 1..12): "
                         "write dates as YYYY-MM-DD, e.g. 2023-10-06 [front-matter-type]")


def test_duplicate_front_matter_key_names_both_lines(site):
    site.write({TIPS: "---\ntitle: Tips\ndescription: Short.\ntitle: Other tips\n---\n\nText.\n"})
    assert_refused(site, "content/en/tips.md:4: error: 'title' is written twice (first on line 2): keep one of them "
                         "[front-matter-duplicate]")


def test_key_that_is_a_list(site):
    site.write({TIPS: "---\ntitle: Tips\n? [a, b]\n: c\n---\n\nText.\n"})
    assert_refused(site, "content/en/tips.md:3: error: a field name must be a plain word such as title "
                         "[front-matter-syntax]")


def test_unknown_template(site):
    site.write({TIPS: page("Tips", template="pgae.html")})
    assert_refused(site, "content/en/tips.md:3: error: template 'pgae.html' is not in templates/; did you mean "
                         "'page.html'? [unknown-template]")


# Files that are not pages

def test_file_that_is_not_utf8(site):
    site.write({TIPS: page("Tips", "Café con leche.").encode("latin-1")})
    assert_refused(site, "content/en/tips.md:6: error: the file is not UTF-8 (byte 0xe9): save it as UTF-8 in your "
                         "editor [not-utf8]")


def test_file_saved_as_utf16(site):
    site.write({TIPS: page("Tips").encode("utf-16")})
    assert_refused(site, "content/en/tips.md: error: the file is saved as UTF-16 (\"Unicode\" in some editors): save "
                         "it as UTF-8 instead [not-utf8]")


def test_binary_file_renamed_md(site):
    site.write({TIPS: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00"})
    assert_refused(site, "content/en/tips.md: error: the file contains NUL bytes, so it is not a text file: is it an "
                         "image or document renamed to .md? [binary-file]")


def test_empty_file(site):
    site.write({TIPS: ""})
    assert_refused(site, "content/en/tips.md: error: the file is empty: add front matter with a title and some text, "
                         "or delete the file [empty-file]")


def test_twenty_megabyte_file_is_refused_with_the_limit(site):
    # 2 MB is a hundred times the longest real page, and converts in about 2 s: more is a paste accident
    # or a binary, and 20 MB of HTML would stall the phones this site is read on.
    site.write({TIPS: page("Tips", "Call 911. " * 2_000_000)})
    assert_refused(site, "content/en/tips.md: error: the file is 19.1 MB; pages are limited to 2 MB: split it into "
                         "several pages [file-too-large]")


def test_symlink_to_a_file_outside_content_is_refused(site, tmp_path):
    (tmp_path / "elsewhere.md").write_text(page("Elsewhere"))
    os.symlink(tmp_path / "elsewhere.md", site.root / "content/en/elsewhere.md")
    assert_refused(site, "content/en/elsewhere.md: error: this file is a symbolic link to a file outside the content "
                         "folder, which is refused: copy the file in instead [symlink-outside]")


def test_symlink_to_a_folder_outside_content_is_refused(site, tmp_path):
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared/extra.md").write_text(page("Extra"))
    os.symlink(tmp_path / "shared", site.root / "content/en/shared")
    assert_refused(site, "content/en/shared: error: this is a symbolic link to a folder outside the content folder, "
                         "which is refused: copy the folder in instead [symlink-outside]")


def test_symlink_to_nothing(site):
    os.symlink(site.root / "content/en/gone.md", site.root / "content/en/link.md")
    assert_refused(site, "content/en/link.md: error: this symbolic link points to content/en/gone.md, which does not "
                         "exist: fix the link or delete it [broken-symlink]")


def test_named_pipe_is_refused_without_hanging(site):
    os.mkfifo(site.root / "content/en/pipe.md")
    # A subprocess with a timeout: reading a pipe would block forever.
    result = subprocess.run([sys.executable, str(PROJECT / "build.py")], cwd=site.root, capture_output=True,
                            text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(PROJECT)})
    assert errors_of(result.stderr) == ["content/en/pipe.md: error: this is not a regular file: delete it or rename "
                                        "it so it does not end in .md [not-a-file]"]
    assert result.returncode == 1 and "Traceback" not in result.stderr


# File names and URLs

def test_file_names_with_spaces_capitals_and_accents_get_predictable_urls(site):
    site.write({"content/en/Get Help Now.md": page("Get help"), "content/es/Año Nuevo.md": page("Año nuevo"),
                "content/es/Guía Rápida/Qué Hacer.md": page("Qué hacer")})
    code, _, err = site.build()
    assert code == 0, err
    pages = sorted(p for p in site.snapshot() if p.endswith("/index.html"))
    assert pages == ["en/get-help-now/index.html", "en/index.html", "en/naloxone/index.html", "en/tips/index.html",
                     "es/anyo-nuevo/index.html", "es/guia-rapida/que-hacer/index.html", "es/index.html",
                     "es/naloxona/index.html"]


def test_two_file_names_with_one_url_name_both(site):
    site.write({"content/en/Get Help.md": page("Help A"), "content/en/get-help.md": page("Help B")})
    both = "content/en/Get Help.md, content/en/get-help.md"
    assert_refused(site,
                   f"content/en/Get Help.md:1: error: more than one page is published at /en/get-help/: {both}; "
                   "give each page its own [duplicate-url]",
                   f"content/en/get-help.md:1: error: more than one page is published at /en/get-help/: {both}; "
                   "give each page its own [duplicate-url]")


def test_slug_that_takes_another_pages_url(site):
    site.write({TIPS: page("Tips", slug="naloxone")})
    both = "content/en/naloxone.md, content/en/tips.md"
    assert_refused(site,
                   f"content/en/naloxone.md:1: error: more than one page is published at /en/naloxone/: {both}; "
                   "give each page its own [duplicate-url]",
                   f"content/en/tips.md:1: error: more than one page is published at /en/naloxone/: {both}; "
                   "give each page its own [duplicate-url]")


def test_file_name_without_latin_letters(site):
    # Its URL would be /en//, which is written over the English home page.
    site.write({"content/en/日本語.md": page("Japanese")})
    assert_refused(site, "content/en/日本語.md:1: error: the file name '日本語' has no Latin letter or digit to make a "
                         "web address from: rename the file, e.g. 'japanese', or set `slug:` in the front matter "
                         "[unusable-file-name]")


# UI catalogs

def test_po_string_without_closing_quote(site):
    line = site.edit(PO, 'msgstr "Saltar al contenido principal"', 'msgstr "Saltar al contenido principal')
    assert_refused(site, f"{PO}:{line}: error: the text must be in double quotes, closed on the same line, with \\\" "
                         "for a quote inside it: '\"Saltar al contenido principal' [po-syntax]")


def test_po_unknown_keyword(site):
    line = site.edit(PO, 'msgstr "Saltar al contenido principal"', 'msgstring "Saltar al contenido principal"')
    assert_refused(site, f"{PO}:{line}: error: 'msgstring' is not a PO keyword: each line starts with msgid, msgstr, "
                         "msgctxt, msgid_plural, a quote or # [po-syntax]")


@pytest.mark.parametrize("wrong", ["%(fecha)s", "{date}"])
def test_po_placeholder_that_differs_from_the_msgid(site, wrong):
    line = site.edit(PO, 'msgstr "Última revisión: %(date)s"', f'msgstr "Última revisión: {wrong}"')
    site.write({TIPS: page("Tips", reviewed="2024-01-02")})  # so a page shows the string
    assert_refused(site, f"{PO}:{line}: error: the translation of 'Last reviewed %(date)s' has placeholders "
                         f"['{wrong}'] but the English has ['%(date)s']: keep them exactly as in the msgid "
                         "[placeholder-mismatch]")


def test_po_lone_percent_sign(site):
    line = site.edit(PO, 'msgstr "Saltar al contenido principal"', 'msgstr "Saltar al contenido 100%"')
    assert_refused(site, f"{PO}:{line}: error: the translation of 'Skip to main content' has a lone '%', which would "
                         "break every page showing it: write %% for a percent sign [placeholder-mismatch]")


# Templates

def test_template_syntax_error_names_template_and_line(site):
    site.write({"templates/_broken.html": "<p>\n{% if preview %}\nunclosed\n"})
    assert_refused(site, "templates/_broken.html:3: error: Unexpected end of template. Jinja was looking for the "
                         "following tags: 'elif' or 'else' or 'endif'. The innermost block that needs to be closed is "
                         "'if'. [template-syntax]")


def test_undefined_variable_in_an_included_template(site):
    line = site.append("templates/_nav.html", "{{ no_such_variable }}")
    assert_refused(site, f"templates/_nav.html:{line}: error: UndefinedError: 'no_such_variable' is undefined "
                         "[template-undefined]")


def test_undefined_variable_in_the_extended_base_template(site):
    line = site.edit("templates/base.html", "<main", "{{ page.titel }}<main")
    assert_refused(site, f"templates/base.html:{line}: error: UndefinedError: 'puente.model.Page object' has no "
                         "attribute 'titel' [template-undefined]")


def test_undefined_variable_in_a_landing_part(site):
    site.write({"templates/landing_part.html": "{{ oops }}\n"
                + (site.root / "templates/landing_part.html").read_text(encoding="utf-8")})
    assert_refused(site, "templates/landing_part.html:1: error: UndefinedError: 'oops' is undefined "
                         "[template-undefined]")


# Missing project parts

def test_missing_templates_folder(site):
    shutil.rmtree(site.root / "templates")
    assert_refused(site, "templates: error: the templates/ folder is missing: it holds the page layouts (restore it "
                         "from git: `git checkout -- templates`) [missing-folder]")


def test_missing_locales_folder(site):
    shutil.rmtree(site.root / "locales")
    assert_refused(site, "locales: error: the locales/ folder is missing: it holds the translated UI strings; restore "
                         "it with `git checkout -- locales` (see README, 'Translating the interface') [missing-folder]")


def test_missing_config_file(site):
    (site.root / "site.toml").unlink()
    assert_refused(site, f"site.toml: error: no site.toml in {site.root}: run the command in the project folder, or "
                         "create site.toml (see README) [missing-config]", summary=False)


def test_config_value_without_quotes(site):
    line = site.edit("site.toml", 'default_lang = "en"', "default_lang = en")
    assert_refused(site, f"site.toml:{line}: error: invalid TOML: Invalid value: text values are written in double "
                         "quotes, e.g. default_lang = \"en\" [config-syntax]", summary=False)


def test_output_that_is_a_file_is_refused(site):
    (site.root / "notes.txt").write_text("mine")
    code, _, err = site.build("--output", "notes.txt")
    assert errors_of(err) == [f"--output: error: refusing to write the site to {site.root / 'notes.txt'}: it is a "
                              "file, not a folder; choose a folder such as public/ [unsafe-output]"]
    assert code == 2 and (site.root / "notes.txt").read_text() == "mine"


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc as a folder nobody may write to")
def test_output_folder_that_cannot_be_written(site):
    before = site.snapshot()
    code, out, err = site.build("--output", "/proc/puente-site")
    assert code == 1
    assert err.startswith("/proc/.puente-tmp-puente-site-") and err.rstrip().endswith(
        ": error: No such file or directory: the build stopped here; check that this path exists, that you may "
        "read and write it, and that the disk has room [os-error]"), err
    assert "Traceback" not in err and site.snapshot() == before


# Accepted as they are

def test_bom_and_crlf_are_accepted(site):
    site.write({TIPS: "\ufeff---\r\ntitle: Tips\r\ndescription: Short.\r\n---\r\n\r\nCarry *naloxone*.\r\n",
                "site.toml": b"\xef\xbb\xbf" + (site.root / "site.toml").read_bytes().replace(b"\n", b"\r\n"),
                PO: b"\xef\xbb\xbf" + (site.root / PO).read_bytes().replace(b"\n", b"\r\n")})
    code, _, err = site.build()
    assert code == 0 and not errors_of(err), err
    html = (site.root / "public/en/tips/index.html").read_text(encoding="utf-8")
    assert "<h1>Tips</h1>" in html and "<p>Carry <em>naloxone</em>.</p>" in html
    assert "\r" not in html and "\ufeff" not in html
    assert "Saltar al contenido principal" in (site.root / "public/es/index.html").read_text(encoding="utf-8")


def test_missing_static_folder_is_an_error(site):
    import shutil
    shutil.rmtree(site.root / "static")
    code, _, err = site.build()
    assert code == 1
    assert ("static: error: the static/ folder is missing: it holds the stylesheet and icons every page needs "
            "(restore it from git: `git checkout -- static`) [missing-folder]") in err


def test_dangling_symlink_in_static_is_an_error(site):
    (site.root / "static/gone.png").symlink_to(site.root / "static/nothing.png")
    code, _, err = site.build()
    assert code == 1
    assert "static/gone.png: error: this symbolic link points to nothing: fix the link or delete it [broken-symlink]" in err
    assert "Traceback" not in err


def test_a_page_whose_counterpart_failed_to_load_gets_no_unmatched_key_warning(site):
    site.write({"content/es/naloxona.md": "---\ntitle: Naloxona\ntranslation_key: naloxone\n---\n\nRocíela.\n",
                "content/en/naloxone.md": "---\ntitle: [Naloxone\n---\n\nSpray it.\n"})
    code, _, err = site.build()
    assert code == 1
    assert "[unmatched-key]" not in err


HIDE_BABEL = "import sys; sys.modules['babel'] = None; import puente.cli; sys.exit(puente.cli.main(['check']))"
"""A Python without Babel: the import system refuses a module mapped to None."""
LOSE_OWN_MODULE = ("import sys, puente.cli; from unittest import mock; "
                   "mock.patch('puente.cli.run_check', side_effect=ModuleNotFoundError('gone', name='puente.gone'))"
                   ".start(); sys.exit(puente.cli.main(['check']))")
"""The generator failing to import a module of its own: a bug, not the user's setup."""


def run_python(site, program: str):
    return subprocess.run([sys.executable, "-c", program], cwd=site.root, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(PROJECT)})


def test_a_python_without_the_dependencies_says_how_to_set_up(site):
    result = run_python(site, HIDE_BABEL)
    assert result.returncode == 2
    assert result.stderr == (f"pyproject.toml: error: the package 'babel' is not installed in this Python "
                             f"({sys.executable}): run ./scripts/build, which sets it up in .venv, or "
                             "`pip install -e .` [missing-dependency]\n")


def test_a_missing_module_of_the_generator_itself_stays_an_internal_error(site):
    result = run_python(site, LOSE_OWN_MODULE)
    assert result.returncode == 3
    assert "internal error in the generator" in result.stderr and "Traceback" in result.stderr
