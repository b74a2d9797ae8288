"""The core build, from outside: files in, output files and diagnostics out."""

import re
import xml.etree.ElementTree as ET

from conftest import BILINGUAL, page


def hrefs(html: str, rel: str) -> list[str]:
    return re.findall(rf'<link rel="{rel}" hreflang="([^"]+)" href="([^"]+)"', html)


def test_builds_every_page_to_pretty_urls(scratch):
    site = scratch({**BILINGUAL, "content/en/guide/steps.md": page("Steps")})
    result = site.run()
    assert result.returncode == 0, result.stderr
    assert site.files() == [
        ".puente-output", "404.html", "_headers", "en/guide/steps/index.html", "en/index.html",
        "en/naloxone/index.html", "es/index.html", "es/naloxona/index.html", "favicon.ico", "favicon.svg",
        "index.html", "robots.txt", "sitemap.xml", *[f for f in site.files() if f.startswith("style.")]]
    assert re.match(r"built: 3 en, 2 es pages, 0 errors, 0 warnings in \d+\.\d\d s; wrote public \(\d+ files changed\)$",
                    result.stdout.strip())


# Pairing scenarios, numbered as in Pelican's test_process_translations.

def test_pairing_1_english_only_links_switcher_to_spanish_home(scratch):
    site = scratch({**BILINGUAL, "content/en/only.md": page("Only English")})
    assert site.run().returncode == 0
    html = site.output("en/only/index.html")
    assert hrefs(html, "alternate") == [("en", "https://example.org/en/only/"), ("x-default", "https://example.org/")]
    assert '<a href="/es/" hreflang="es" lang="es">Español</a>' in html
    assert "This page is not available in Spanish yet." in html
    assert 'The “<span lang="es">Español</span>” link at the top' in html


def test_pairing_2_spanish_only_says_so_in_spanish(scratch):
    site = scratch({**BILINGUAL, "content/es/solo.md": page("Solo en español")})
    assert site.run().returncode == 0
    html = site.output("es/solo/index.html")
    assert hrefs(html, "alternate") == [("es", "https://example.org/es/solo/"), ("x-default", "https://example.org/")]
    assert '<a href="/en/" hreflang="en" lang="en">English</a>' in html
    assert "Esta página todavía no está disponible en inglés." in html
    assert 'El enlace “<span lang="en">English</span>”' in html


def test_pairing_3_same_path_pairs(scratch):
    site = scratch({**BILINGUAL, "content/en/tips.md": page("Tips"), "content/es/tips.md": page("Consejos")})
    assert site.run().returncode == 0
    assert '<a href="/es/tips/" hreflang="es" lang="es">Español</a>' in site.output("en/tips/index.html")
    assert '<a href="/en/tips/" hreflang="en" lang="en">English</a>' in site.output("es/tips/index.html")


def test_pairing_4_translation_key_pairs_different_file_names(scratch):
    site = scratch(BILINGUAL)
    assert site.run().returncode == 0
    html = site.output("es/naloxona/index.html")
    assert hrefs(html, "alternate") == [("en", "https://example.org/en/naloxone/"),
                                        ("es", "https://example.org/es/naloxona/"),
                                        ("x-default", "https://example.org/")]
    assert '<a href="/en/naloxone/" hreflang="en" lang="en">English</a>' in html
    assert "no está disponible" not in html


def test_pairing_5_duplicate_key_names_every_file(scratch):
    site = scratch({**BILINGUAL, "content/es/otra.md": page("Otra", translation_key="naloxone")})
    result = site.run()
    assert result.returncode == 1
    lines = [l for l in result.stderr.splitlines() if "[duplicate-key]" in l]
    assert lines == [
        "content/es/naloxona.md:1: error: translation_key 'naloxone' is used by more than one es page: "
        "content/es/naloxona.md, content/es/otra.md; give each page its own [duplicate-key]",
        "content/es/otra.md:1: error: translation_key 'naloxone' is used by more than one es page: "
        "content/es/naloxona.md, content/es/otra.md; give each page its own [duplicate-key]"]


def test_translation_key_that_matches_nothing_is_a_warning_with_suggestion(scratch):
    site = scratch({**BILINGUAL, "content/es/naloxona.md": page("Naloxona", translation_key="naloxon")})
    result = site.run()
    assert ("content/es/naloxona.md:3: warning: translation_key 'naloxon' matches no page in en; "
            "did you mean 'naloxone'? [unmatched-key]") in result.stderr


def test_links_to_md_files_become_urls_in_the_same_language(scratch):
    site = scratch({**BILINGUAL,
                    "content/es/ayuda/index.md": page("Ayuda", "## Líneas\n\nVea [naloxona](../naloxona.md#como-usarla)"
                                                      " y [inicio](/es/)."),
                    "content/es/ayuda/lineas.md": page("Líneas", "[Ayuda](index.md#lineas)")})
    assert site.run().returncode == 0
    html = site.output("es/ayuda/index.html")
    assert '<a href="/es/naloxona/#como-usarla">naloxona</a>' in html
    assert '<a href="/es/">inicio</a>' in html
    assert '<a href="/es/ayuda/#lineas">Ayuda</a>' in site.output("es/ayuda/lineas/index.html")


def test_broken_link_and_anchor_are_errors_at_file_and_line(scratch):
    site = scratch({**BILINGUAL, "content/en/naloxone.md": page(
        "Naloxone", "## How to use it\n\nSee [home](index.md).\n\n[bad](naloxon.md) and [anchor](index.md#nope)"
                    " and [url](/en/missing/)")})
    result = site.run()
    assert result.returncode == 1
    errors = [l for l in result.stderr.splitlines() if ": error:" in l]
    assert errors == [
        "content/en/naloxone.md:10: error: link to 'naloxon.md': there is no page content/en/naloxon.md; "
        "did you mean 'naloxone.md'? [broken-link]",
        "content/en/naloxone.md:10: error: link '/en/missing/' points to nothing: link pages as their .md file "
        "(naloxona.md) or their URL (/es/naloxona/), and files as their path in static/ (/images/photo.png) "
        "[broken-link]",
        "content/en/naloxone.md:10: error: link 'index.md#nope': the page /en/ has no heading #nope [broken-anchor]"]


def test_spanish_heading_ids_keep_enye_distinct(scratch):
    site = scratch({**BILINGUAL, "content/es/index.md": page("Inicio", "## Año\n\n## Ano\n\n[año](#anyo)")})
    assert site.run().returncode == 0
    html = site.output("es/index.html")
    assert '<h2 id="anyo">Año</h2>' in html and '<h2 id="ano">Ano</h2>' in html


def test_unknown_language_folder_is_an_error(scratch):
    site = scratch({**BILINGUAL, "content/fr/index.md": page("Accueil")})
    result = site.run()
    assert result.returncode == 1
    assert ("content/fr: error: unknown language folder content/fr: the languages are en, es "
            "[unknown-language]") in result.stderr


def test_front_matter_warnings_suggest_fixes(scratch):
    site = scratch({**BILINGUAL, "content/en/tips.md": page("Tips", "First paragraph here.\n\nMore.",
                                                            description=None, ordre=3)})
    result = site.run()
    assert result.returncode == 0
    assert ("content/en/tips.md:1: warning: no description in the front matter: the first paragraph is used for "
            "search results and link previews; add `description:` [missing-description]") in result.stderr
    assert "content/en/tips.md:3: warning: unknown front matter key 'ordre'; did you mean 'order'? [unknown-key]" \
        in result.stderr
    assert '<meta name="description" content="First paragraph here.">' in site.output("en/tips/index.html")
    assert site.run("--strict").returncode == 1


def test_navigation_follows_order(scratch):
    site = scratch({**BILINGUAL, "content/en/b.md": page("Bravo", order=3), "content/en/a.md": page("Alpha", order=9)})
    site.run()
    nav = re.findall(r'<li><a href="([^"]+)"', site.output("en/index.html").split('class="site-nav"')[1])
    assert nav[:4] == ["/en/", "/en/naloxone/", "/en/b/", "/en/a/"]


def test_spanish_ui_strings_come_from_the_catalog(scratch):
    site = scratch(BILINGUAL)
    site.run()
    html = site.output("es/naloxona/index.html")
    assert "Saltar al contenido principal" in html and "En una emergencia" in html
    assert "Skip to main content" not in html


def test_untranslated_string_warns_and_falls_back_to_english(scratch):
    site = scratch(BILINGUAL)
    po = site.root / "locales/es/LC_MESSAGES/messages.po"
    po.write_text(po.read_text().replace('msgstr "Saltar al contenido principal"', 'msgstr ""'))
    result = site.run()
    assert result.returncode == 0
    assert re.search(r"locales/es/LC_MESSAGES/messages.po:\d+: warning: no translation for 'Skip to main content': "
                     r"English is shown \[untranslated-string\]", result.stderr)
    assert "Skip to main content" in site.output("es/index.html")


def test_reviewed_date_uses_the_full_locale(scratch):
    site = scratch({**BILINGUAL, "content/es/naloxona.md": page("Naloxona", translation_key="naloxone",
                                                                reviewed="2023-10-06")})
    site.run()
    assert "Última revisión: 6 de octubre de 2023" in site.output("es/naloxona/index.html")


def test_sitemap_lists_alternates_that_exist_and_x_default(scratch):
    site = scratch({**BILINGUAL, "content/en/only.md": page("Only")})
    site.run()
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}
    root = ET.fromstring(site.output("sitemap.xml"))
    entries = {u.find("s:loc", ns).text: [(l.get("hreflang"), l.get("href")) for l in u.findall("x:link", ns)]
               for u in root.findall("s:url", ns)}
    assert list(entries) == sorted(entries)
    assert entries["https://example.org/en/only/"] == [("en", "https://example.org/en/only/"),
                                                       ("x-default", "https://example.org/")]
    assert entries["https://example.org/es/naloxona/"] == [("en", "https://example.org/en/naloxone/"),
                                                           ("es", "https://example.org/es/naloxona/"),
                                                           ("x-default", "https://example.org/")]
    assert "Sitemap: https://example.org/sitemap.xml" in site.output("robots.txt")


def test_base_url_with_a_subpath_prefixes_every_link(scratch):
    site = scratch(BILINGUAL)
    assert site.run("--base-url", "https://example.org/fentanyl/").returncode == 0
    html = site.output("es/index.html")
    assert '<a href="/fentanyl/es/naloxona/">naloxona</a>' in html
    assert re.search(r'<link rel="stylesheet" href="/fentanyl/style\.[0-9a-f]{10}\.css">', html)
    assert '<link rel="canonical" href="https://example.org/fentanyl/es/">' in html
    assert '<a href="/fentanyl/en/" hreflang="en" lang="en">English</a>' in html
    internal = re.findall(r'(?:href|src)="(/[^"]*)"', html)
    assert internal and all(h.startswith("/fentanyl/") for h in internal)
    assert "<loc>https://example.org/fentanyl/es/naloxona/</loc>" in site.output("sitemap.xml")
    assert '<a class="button" href="/fentanyl/es/" hreflang="es">' in site.output("index.html")


def test_landing_and_404_are_bilingual_without_redirect(scratch):
    site = scratch(BILINGUAL)
    site.run()
    for name in ("index.html", "404.html"):
        html = site.output(name)
        assert '<section lang="en"' in html and '<section lang="es"' in html
        assert "http-equiv" not in html and "<script" not in html


def test_css_is_fingerprinted(scratch):
    site = scratch(BILINGUAL)
    site.run()
    css = [f for f in site.files() if f.endswith(".css")]
    assert len(css) == 1 and re.fullmatch(r"style\.[0-9a-f]{10}\.css", css[0])
    assert (site.root / "public" / css[0]).read_bytes() == (site.root / "static/style.css").read_bytes()


def test_failed_build_leaves_previous_output_byte_for_byte(scratch):
    site = scratch(BILINGUAL)
    assert site.run().returncode == 0
    before = {f: (site.root / "public" / f).read_bytes() for f in site.files()}
    site.write({"content/en/naloxone.md": page("Naloxone", "[x](missing.md)")})
    result = site.run()
    assert result.returncode == 1
    assert "nothing written, public left as it was" in result.stdout
    assert {f: (site.root / "public" / f).read_bytes() for f in site.files()} == before
    assert not [p for p in site.root.iterdir() if p.name.startswith(".puente-")]


def test_refuses_outputs_that_hold_sources(scratch):
    site = scratch(BILINGUAL)
    for output in (".", "content", "templates", "locales", "static", "content/en/out", "./content/..", ".."):
        result = site.run("--output", output)
        assert result.returncode == 2, output
        assert "error: refusing to write the site to" in result.stderr, output
    assert (site.root / "content/en/index.md").exists()


def test_refuses_to_replace_a_folder_it_did_not_make(scratch):
    site = scratch({**BILINGUAL, "notes/keep.txt": "mine"})
    result = site.run("--output", "notes")
    assert result.returncode == 2
    assert "was not made by this tool" in result.stderr
    assert (site.root / "notes/keep.txt").read_text() == "mine"


def test_two_builds_are_byte_identical(scratch):
    site = scratch(BILINGUAL)
    site.run("--output", "one")
    site.run("--output", "two")
    one, two = site.files("one"), site.files("two")
    assert one == two
    assert all((site.root / "one" / f).read_bytes() == (site.root / "two" / f).read_bytes() for f in one)


def test_unchanged_output_files_are_not_rewritten(scratch):
    site = scratch(BILINGUAL)
    site.run()
    before = (site.root / "public/en/index.html").stat().st_ino
    site.write({"content/en/naloxone.md": page("Naloxone", "## How to use it\n\nChanged.", order=2)})
    site.run()
    assert (site.root / "public/en/index.html").stat().st_ino == before
    assert "Changed." in site.output("en/naloxone/index.html")


def test_usage_error_exits_2(scratch):
    site = scratch(BILINGUAL)
    assert site.run("--no-such-flag").returncode == 2
    result = site.run("--base-url", "example.org")
    assert result.returncode == 2
    assert "--base-url 'example.org' must be an absolute http(s) URL" in result.stderr
    assert "Traceback" not in result.stderr
