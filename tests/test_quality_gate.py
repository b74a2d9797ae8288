"""The quality gate: every built page, in a real browser, in both languages and both colour schemes.

Two sites are checked: the project's own content (built into a temporary folder) and a scratch site
that exercises what the real content may not, such as the missing-translation notice. Each page is
visited once (see `audits`) and the tests below assert on what that visit recorded.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conftest import BILINGUAL, PROJECT, Scratch, page, require_browser_or_skip

pytestmark = pytest.mark.browser

VNU_JAR = PROJECT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
WEIGHT_LIMIT = 50_000
"""Bytes of HTML plus CSS allowed for one content page, uncompressed, images excluded."""
EMERGENCY_TELS = {"real": {"911", "988", "8009112000"}, "scratch": {"911"}}
"""The tel: numbers each emergency box must call: 911 (US and Mexico), 988 and Línea de la Vida."""
STATUS_PAGE = "_status.html"
MISSING_PATH = "no/such/page/"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}

SCRATCH_FILES = {
    **BILINGUAL,
    "content/en/only.md": page("Only in English", "No translation yet.", order=3),
    "content/es/solo.md": page("Solo en español", "Todavía sin traducción.", order=3),
    "content/en/guide/index.md": page("Guide", "Read the [steps](steps.md).", order=4, reviewed="2026-11-01"),
    "content/en/guide/steps.md": page("Steps", (
        "!!! emergency \"Right now\"\n    Call 911.\n\n"
        "| Year | A long column heading that makes the table wider than a phone | Another column | And one more |\n"
        "|---|---|---|---|\n| 2024 | 5 in 10 [@cdc-naloxone] | Figure | Figure |\n\n"
        "> A quotation.\n\nSee https://www.example.org/a/very/long/path/that/does/not/break/on/its/own/at/all\n\n"
        "Naloxone works [@cdc-naloxone]."), reviewed="2026-11-01"),
    "content/es/guia/index.md": page("Guía", "Lea los [pasos](pasos.md).", order=4, translation_key="guide/index"),
    "content/es/guia/pasos.md": page("Pasos", "Llame al 911 [@cdc-naloxone].", translation_key="guide/steps"),
}


# Serving: the real security headers, so a strict Content-Security-Policy is in force on every page.

class _Handler(http.server.SimpleHTTPRequestHandler):
    """Static files with the site's own security headers, and 404.html for a missing path, like a host."""

    def log_message(self, *args):
        pass

    def end_headers(self):
        from puente.sitefiles import HEADERS
        for name, value in HEADERS.items():
            self.send_header(name, value)
        super().end_headers()

    def send_error(self, code, message=None, explain=None):
        not_found = Path(self.directory) / "404.html"
        if code != 404 or not not_found.is_file():
            return super().send_error(code, message, explain)
        body = not_found.read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


@dataclass
class BuiltSite:
    """A built site being served on loopback."""

    name: str
    folder: Path
    url: str
    """The base URL, ending in '/'."""

    def pages(self) -> list[str]:
        """Every HTML page as a URL path below the base URL, e.g. `es/naloxona/`."""
        paths = sorted(p.relative_to(self.folder).as_posix() for p in self.folder.rglob("*.html"))
        return [p.removesuffix("index.html") for p in paths]

    def html(self, path: str) -> str:
        return (self.folder / (path + "index.html" if path.endswith("/") or not path else path)).read_text("utf-8")


def _serve(folder: Path):
    handler = functools.partial(_Handler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def _build(name: str, root: Path, folder: Path, url: str) -> None:
    """Build the project at `root` into `folder` for `url`; fail with the build's own report."""
    result = subprocess.run([sys.executable, str(PROJECT / "build.py"), "--output", str(folder), "--base-url", url],
                            cwd=root, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(PROJECT)})
    if result.returncode != 0:
        pytest.fail(f"the {name} site does not build:\n{result.stdout}{result.stderr}")


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    """The real project site and the scratch site, built and served."""
    servers, built = [], {}
    scratch = Scratch(tmp_path_factory.mktemp("scratch") / "site", SCRATCH_FILES)
    for name, root in (("real", PROJECT), ("scratch", scratch.root)):
        folder = tmp_path_factory.mktemp(name) / "public"
        folder.mkdir()
        server, url = _serve(folder)
        servers.append(server)
        _build(name, root, folder, url)
        built[name] = BuiltSite(name, folder, url)
    _add_status_page(built["real"])
    yield built
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def html_checker(sites):
    """The Nu Html Checker, started on every output folder in one run (its JVM start-up dominates) and in
    the background, so it works while the browser does; None when Java or vnu-jar is missing."""
    java = shutil.which("java")
    if java is None or not VNU_JAR.is_file():
        yield None
        return
    checker = subprocess.Popen([java, "-jar", str(VNU_JAR), "--errors-only", "--skip-non-html", "--format", "json",
                                "--stdout", *(str(site.folder) for site in sites.values())],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    yield checker
    if checker.poll() is None:
        checker.kill()
        checker.communicate()


def _add_status_page(site: BuiltSite) -> None:
    """Write the translation status report next to the pages, when the generator can render one."""
    try:
        from puente import status
    except ImportError:
        return
    if not hasattr(status, "render_report_html"):
        return
    from puente.config import load_config
    config = load_config(PROJECT)
    (site.folder / STATUS_PAGE).write_text(status.render_report_html(config), encoding="utf-8")


# One visit per page, recording everything the tests assert on.

PAGE_FACTS = """() => {
  const closestLang = el => el.closest('[lang]').getAttribute('lang');
  const boxes = [...document.querySelectorAll('.emergency-box')].map(box => ({
    lang: closestLang(box), title: box.querySelector('.emergency-title').textContent.trim(),
    tels: [...box.querySelectorAll('a[href^="tel:"]')].map(a => a.getAttribute('href').slice(4))}));
  const switcher = document.querySelector('.language-switcher a');
  return {
    lang: document.documentElement.lang,
    header: document.querySelectorAll('body > header').length,
    main: document.querySelectorAll('main').length,
    footer: document.querySelectorAll('body > footer').length,
    siteNav: document.querySelectorAll('nav.site-nav').length,
    h1: document.querySelectorAll('h1').length,
    boxes,
    switcher: switcher && {href: switcher.href, lang: switcher.getAttribute('lang')},
    alternates: Object.fromEntries([...document.querySelectorAll('link[rel=alternate][hreflang]')]
      .map(l => [l.hreflang, l.href])),
  };
}"""
TAB_STOP = """() => { const el = document.activeElement; const box = el.getBoundingClientRect();
  return {cls: el.className, id: el.id, top: box.top, height: box.height,
          outline: getComputedStyle(el).outlineStyle, outlineWidth: parseFloat(getComputedStyle(el).outlineWidth)}; }"""
CSP_LISTENER = """window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', e =>
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`));"""


@dataclass
class Audit:
    """What one visit to one page found."""

    site: str
    path: str
    facts: dict = field(default_factory=dict)
    axe: dict = field(default_factory=dict)
    """Colour scheme -> axe violation lines."""
    csp: list = field(default_factory=list)
    console: list = field(default_factory=list)
    third_party: list = field(default_factory=list)
    width_at_320: int = 0
    first_tab_stop: dict = field(default_factory=dict)
    focus_after_skip: str = ""

    def __str__(self):
        return f"{self.site}:/{self.path}"

    @property
    def kind(self) -> str:
        """`content` (a page of one language), `bilingual` (landing and 404) or `status` (the editors' report)."""
        if self.path == STATUS_PAGE:
            return "status"
        return "content" if self.path.startswith(("en/", "es/")) and MISSING_PATH not in self.path else "bilingual"


def _reader_pages(audits):
    return [a for a in audits if a.kind != "status"]


AXE_RUN = "axe.run(document, {resultTypes: ['violations']}).then(results => results.violations)"


def _axe_lines(violations, shown: int = 3) -> list[str]:
    """One line per failing element, at most `shown` per rule, ending with what axe says to fix."""
    lines = []
    for violation in violations:
        nodes = violation["nodes"]
        for node in nodes[:shown]:
            lines.append(f"{violation['id']} ({violation['impact']}): {' '.join(node['target'])}: "
                         f"{node['failureSummary'].splitlines()[-1].strip()}")
        if len(nodes) > shown:
            lines.append(f"{violation['id']}: and {len(nodes) - shown} more elements")
    return lines


class Browsing:
    """Two tabs in one context, one per colour scheme, so axe runs in both at once (each tab has its own
    renderer process), with a guard that refuses every request leaving the machine."""

    def __init__(self, browser, axe_script: str):
        self.context = browser.new_context(viewport=DESKTOP)
        self.requests, self.messages = [], []
        self.context.route("**/*", self._guard)
        self.context.add_init_script(CSP_LISTENER)
        # Injected at every navigation, outside the page's CSP, rather than sent over once per axe run.
        self.context.add_init_script(axe_script)
        self.tabs = {}
        for scheme in ("light", "dark"):
            tab = self.context.new_page()
            tab.emulate_media(color_scheme=scheme)
            tab.on("console", lambda m: self.messages.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
            tab.on("pageerror", lambda e: self.messages.append(f"page error: {e}"))
            self.tabs[scheme] = tab

    def _guard(self, route, request):
        if urlsplit(request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            self.requests.append(request.url)
            route.abort()

    def visit(self, site: BuiltSite, path: str) -> Audit:
        """Load `path` in both schemes, run axe in both, then check keyboard and reflow in the light tab."""
        audit = Audit(site.name, path)
        self.requests.clear()
        self.messages.clear()
        light = self.tabs["light"]
        light.set_viewport_size(DESKTOP)
        missing = False
        for tab in self.tabs.values():
            missing = tab.goto(site.url + path, wait_until="load").status == 404
            audit.csp += tab.evaluate("window.__cspViolations")
            tab.evaluate(f"() => {{ window.__axe = {AXE_RUN}; }}")
        for scheme, tab in self.tabs.items():
            audit.axe[scheme] = _axe_lines(tab.evaluate("window.__axe"))
        audit.facts = light.evaluate(PAGE_FACTS)
        light.keyboard.press("Tab")
        audit.first_tab_stop = light.evaluate(TAB_STOP)
        if "skip-link" in audit.first_tab_stop["cls"]:  # Enter on any other link would leave the page
            light.keyboard.press("Enter")
            audit.focus_after_skip = light.evaluate("document.activeElement.id")
        light.set_viewport_size({"width": 320, "height": 640})
        audit.width_at_320 = light.evaluate("document.documentElement.scrollWidth")
        # A host answers a missing path with 404.html and a 404 status, which Chromium logs; nothing else may be.
        audit.console = [m for m in self.messages if not (missing and "status of 404" in m)]
        audit.third_party = list(self.requests)
        return audit


@pytest.fixture(scope="module")
def audits(sites, browser, html_checker) -> list[Audit]:
    """Visit every page of both sites once, plus a deep missing path served with the 404 page.

    It asks for `html_checker` only so the checker runs at the same time."""
    from axe_playwright_python.sync_playwright import Axe
    axe_script = Axe().axe_script  # the axe-core the package bundles, so nothing is fetched
    browsing = Browsing(browser, axe_script)
    found = []
    for site in sites.values():
        paths = site.pages() + (["en/" + MISSING_PATH] if site.name == "real" else [])
        found += [browsing.visit(site, path) for path in paths]
    browsing.context.close()
    return found


def _problems(audits, attribute: str) -> dict:
    return {str(a): getattr(a, attribute) for a in audits if getattr(a, attribute)}


def _report(problems: dict) -> str:
    return "\n".join(f"{where}:\n  " + "\n  ".join(lines) for where, lines in problems.items())


# axe-core, in both colour schemes.

@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_violations_on_any_page(audits, scheme):
    problems = {str(a): a.axe[scheme] for a in audits if a.axe[scheme]}
    assert not problems, f"axe violations in the {scheme} scheme:\n{_report(problems)}"


def test_every_page_of_both_sites_is_audited(audits, sites):
    audited = {(a.site, a.path) for a in audits}
    for site in sites.values():
        assert {(site.name, p) for p in site.pages()} <= audited
    real = {a.path for a in audits if a.site == "real"}
    assert {"", "404.html", "en/", "es/"} <= real and any(p.startswith("es/") and p != "es/" for p in real)


# Validity, CSP, requests.

def test_nu_html_checker_finds_no_errors_in_either_site(html_checker):
    checker = html_checker
    if checker is None:
        require_browser_or_skip("the Nu Html Checker needs Java 11+ and `npm ci` (vnu-jar)")
    stdout, stderr = checker.communicate(timeout=300)
    messages = json.loads(stdout)["messages"] if stdout.strip() else []
    errors = [f"{m.get('url', '?')}:{m.get('lastLine', '?')}: {m['message']}" for m in messages
              if m["type"] in ("error", "non-document-error")]
    assert not errors and checker.returncode == 0, "\n".join(errors) or stderr


def test_strict_content_security_policy_reports_no_violations(audits):
    problems = _problems(audits, "csp")
    assert not problems, f"CSP violations (inline script or style?):\n{_report(problems)}"


def test_pages_log_no_console_errors(audits):
    problems = _problems(audits, "console")
    assert not problems, _report(problems)


def test_pages_make_no_third_party_requests(audits):
    problems = _problems(audits, "third_party")
    assert not problems, f"requests that left the machine:\n{_report(problems)}"


def test_markup_has_no_inline_scripts_styles_handlers_or_remote_resources(sites):
    problems = {}
    for site in sites.values():
        for path in site.pages():
            html = site.html(path)
            found = [f"<script type={t or 'none'}>" for t in re.findall(r"<script(?:\s+type=\"([^\"]*)\")?", html)
                     if t != "application/ld+json"]
            found += re.findall(r"<style\b|\sstyle=|\son[a-z]+=", html)
            found += re.findall(r'<(?:script|img|iframe|source|audio|video)\b[^>]*\ssrc="https?://[^"]*"'
                                r'|<link\b(?![^>]*rel="(?:canonical|alternate)")[^>]*href="https?://[^"]*"', html)
            if found:
                problems[f"{site.name}:/{path}"] = found
    assert not problems, _report(problems)


# Layout, keyboard, landmarks, emergency box.

def test_no_page_scrolls_sideways_at_320_css_px(audits):
    wide = {str(a): [f"scrollWidth {a.width_at_320}"] for a in audits if a.width_at_320 > 320}
    assert not wide, _report(wide)


def test_skip_link_is_the_first_tab_stop_and_moves_focus_to_main(audits):
    problems = {}
    for a in _reader_pages(audits):
        stop = a.first_tab_stop
        if "skip-link" not in stop["cls"] or stop["top"] < 0 or stop["height"] == 0:
            problems[str(a)] = [f"first tab stop is {stop} (expected the visible skip link)"]
        elif stop["outline"] == "none" or stop["outlineWidth"] < 2:
            problems[str(a)] = [f"the focused skip link shows no focus outline: {stop}"]
        elif a.focus_after_skip != "main":
            problems[str(a)] = [f"after Enter on the skip link, focus is on #{a.focus_after_skip or '(body)'}"]
    assert not problems, _report(problems)


def test_every_page_has_header_main_footer_and_one_h1(audits):
    problems = {}
    for a in _reader_pages(audits):
        f = a.facts
        counts = {"header": f["header"], "main": f["main"], "footer": f["footer"], "h1": f["h1"]}
        if a.kind == "content":
            counts["nav.site-nav"] = f["siteNav"]
        wrong = [f"{name}: {n}" for name, n in counts.items() if n != 1]
        if wrong:
            problems[str(a)] = wrong
    assert not problems, _report(problems)


def test_every_page_has_the_emergency_box_in_its_languages(audits):
    problems = {}
    for a in _reader_pages(audits):
        wanted = ["en", "es"] if a.kind == "bilingual" else [a.facts["lang"]]
        boxes = a.facts["boxes"]
        wrong = [f"boxes in {[b['lang'] for b in boxes]}, expected {wanted}"] if [b["lang"] for b in boxes] != wanted else []
        tels = EMERGENCY_TELS[a.site]
        wrong += [f"{b['lang']} box calls {sorted(b['tels'])}, expected {sorted(tels)} among them"
                  for b in boxes if not tels <= set(b["tels"])]
        titles = {b["lang"]: b["title"] for b in boxes}
        if titles.get("es") and titles.get("en") == titles.get("es"):
            wrong.append(f"the Spanish box has the English title {titles['es']!r}")
        if wrong:
            problems[str(a)] = wrong
    assert not problems, _report(problems)


def test_every_switcher_link_goes_to_the_other_languages_version(audits):
    problems = {}
    for a in audits:
        switcher, alternates = a.facts["switcher"], a.facts["alternates"]
        if switcher is None:
            continue
        expected = alternates.get(switcher["lang"])
        if expected is not None and urlsplit(expected).path != urlsplit(switcher["href"]).path:
            problems[str(a)] = [f"switcher goes to {switcher['href']}, the {switcher['lang']} alternate is {expected}"]
    assert not problems, _report(problems)


@pytest.mark.parametrize("start, counterpart, lang", [
    ("en/naloxone/", "es/naloxona/", "es"), ("es/naloxona/", "en/naloxone/", "en"), ("es/", "en/", "en")])
def test_clicking_the_switcher_lands_on_the_counterpart(sites, browser, start, counterpart, lang):
    tab = browser.new_page()
    tab.goto(sites["real"].url + start)
    tab.click(".language-switcher a")
    tab.wait_for_url(sites["real"].url + counterpart)
    assert tab.get_attribute("html", "lang") == lang
    tab.close()


def test_missing_translation_notice_is_shown_in_the_readers_language(sites, browser):
    tab = browser.new_page()
    for path, lang, text in (("en/only/", "es", "not available in Spanish yet"),
                             ("es/solo/", "en", "todavía no está disponible en inglés")):
        tab.goto(sites["scratch"].url + path)
        notice = tab.locator("main .notice")
        assert text in notice.inner_text() and notice.is_visible()
        assert notice.locator(f"span[lang={lang}]").count() == 1
        tab.click(".language-switcher a")
        tab.wait_for_url(sites["scratch"].url + f"{lang}/")
        assert tab.get_attribute("html", "lang") == lang
    tab.close()


# Reading: text size, line length, focus.

LINE_FACTS = """() => {
  const ctx = document.createElement('canvas').getContext('2d');
  const perLine = [...document.querySelectorAll('main p')].filter(p => p.textContent.length > 80).map(p => {
    const style = getComputedStyle(p);
    ctx.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
    const average = ctx.measureText(p.textContent).width / p.textContent.length;
    return p.clientWidth / average; });
  return {body: parseFloat(getComputedStyle(document.body).fontSize),
          smallest: Math.min(...[...document.querySelectorAll('main p, main li')].map(e => parseFloat(getComputedStyle(e).fontSize))),
          perLine};
}"""
"""Characters of each paragraph's own text that fit on one of its lines."""


@pytest.mark.parametrize("path", ["en/overdose/", "es/sobredosis/"])
def test_text_is_at_least_16px_and_lines_hold_about_70_characters(sites, browser, path):
    tab = browser.new_page(viewport=PHONE)
    tab.goto(sites["real"].url + path)
    phone = tab.evaluate(LINE_FACTS)
    tab.set_viewport_size(DESKTOP)
    desktop = tab.evaluate(LINE_FACTS)
    tab.close()
    assert phone["body"] >= 16 and phone["smallest"] >= 16, phone
    assert desktop["perLine"], "no long paragraph to measure"
    median = sorted(desktop["perLine"])[len(desktop["perLine"]) // 2]
    assert 60 <= median <= 80, f"{median:.0f} characters per line on a wide screen"


def test_keyboard_focus_is_visible_on_links(sites, browser):
    tab = browser.new_page(viewport=DESKTOP)
    tab.goto(sites["real"].url + "en/naloxone/")
    for selector in (".site-title", ".language-switcher a", ".call", "main p a", ".site-nav a"):
        tab.focus(selector)
        tab.keyboard.press("Shift+Tab")
        tab.keyboard.press("Tab")
        style = tab.evaluate("(() => { const s = getComputedStyle(document.activeElement);"
                             " return [s.outlineStyle, parseFloat(s.outlineWidth)]; })()")
        assert style[0] != "none" and style[1] >= 2, f"{selector}: focus outline {style}"
    tab.close()


# Weight, structured data, favicon: read from the files.

def _stylesheets(site: BuiltSite, html: str) -> list[Path]:
    return [site.folder / urlsplit(href).path.lstrip("/")
            for href in re.findall(r'<link rel="stylesheet" href="(/[^"]*)"', html)]


def test_every_content_page_is_at_most_50_kb_of_html_and_css(sites):
    site = sites["real"]
    weights = {}
    for path in site.pages():
        if path.startswith(("en/", "es/")):
            html = site.html(path)
            weights[path] = len(html.encode()) + sum(f.stat().st_size for f in _stylesheets(site, html))
    heaviest = max(weights, key=weights.get)
    assert weights[heaviest] <= WEIGHT_LIMIT, f"/{heaviest} weighs {weights[heaviest]} bytes of HTML and CSS"


def _json_ld(html: str) -> list[dict]:
    return [json.loads(block) for block in
            re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)]


def test_content_pages_describe_themselves_as_medical_web_pages(sites):
    site = sites["real"]
    for path in (p for p in site.pages() if p.startswith(("en/", "es/"))):
        html = site.html(path)
        (data,) = _json_ld(html)
        graph = {node["@type"]: node for node in data["@graph"]}
        page_node, crumbs = graph["MedicalWebPage"], graph["BreadcrumbList"]
        assert page_node["inLanguage"] == path[:2] and page_node["about"]["name"], path
        assert page_node["url"] == site.url + path
        if "Last reviewed" in html or "Última revisión" in html:
            assert re.fullmatch(r"\d{4}-\d\d-\d\d", page_node["lastReviewed"]), path
        if 'class="sources"' in html:
            assert page_node["citation"] and all(c["url"].startswith("http") for c in page_node["citation"]), path
        assert crumbs["itemListElement"][-1]["item"] == site.url + path
        counterpart = re.search(rf'<link rel="alternate" hreflang="{"es" if path[:2] == "en" else "en"}" href="([^"]+)"', html)
        if counterpart:
            linked = page_node.get("workTranslation", [{}])[0] if path[:2] == "en" else page_node.get("translationOfWork", {})
            assert linked.get("@id") == counterpart[1], path


def test_favicon_is_linked_and_published(sites):
    for site in sites.values():
        for path in ("", "404.html", "en/", "es/"):
            icons = re.findall(r'<link rel="icon" href="([^"]+)"', site.html(path))
            assert icons, path
            for href in icons:
                assert (site.folder / urlsplit(href).path.lstrip("/")).is_file(), href


# Print: a clean fact sheet.

PRINT_FACTS = """() => {
  const shown = sel => [...document.querySelectorAll(sel)].some(e => getComputedStyle(e).display !== 'none');
  const external = document.querySelector('main a[href^="http"]');
  return {nav: shown('.site-nav'), switcher: shown('.language-switcher'), skip: shown('.skip-link'),
          linkUrl: external && getComputedStyle(external, '::after').content,
          href: external && external.getAttribute('href'),
          footer: document.querySelector('.site-footer').innerText};
}"""


@pytest.mark.parametrize("path, reviewed", [("en/naloxone/", "Last reviewed"), ("es/naloxona/", "Última revisión")])
def test_print_is_a_fact_sheet_without_navigation(sites, browser, path, reviewed):
    tab = browser.new_page(viewport=DESKTOP)
    tab.emulate_media(media="print")
    url = sites["real"].url + path
    tab.goto(url)
    facts = tab.evaluate(PRINT_FACTS)
    assert not (facts["nav"] or facts["switcher"] or facts["skip"]), facts
    assert facts["href"] in facts["linkUrl"], facts
    assert url in facts["footer"] and reviewed in facts["footer"], facts["footer"]
    pdf = tab.pdf(format="Letter")
    tab.close()
    pages = len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf))
    words = len(re.findall(r"\w+", re.sub(r"<[^>]+>", " ", sites["real"].html(path).split("<main", 1)[1])))
    # About 550 words fit on a printed Letter page at 11 pt with this layout; allow one page of slack.
    assert 1 <= pages <= words // 550 + 2, f"{pages} printed pages for {words} words"
