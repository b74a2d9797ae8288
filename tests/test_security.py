"""Hostile content, unsafe outputs, reproducible builds and the Content-Security-Policy, seen from outside."""

from __future__ import annotations

import contextlib
import http.server
import os
import re
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import BILINGUAL, Scratch, page

from puente.config import load_config
from puente.pipeline import build

HOSTILE = """Before.

<script>alert("script")</script>

<img src="/favicon.svg" alt="Logo" onerror="alert('onerror')">

<iframe src="https://evil.example/"></iframe>

<p onclick="alert('onclick')" style="color: red">Styled <strong>and strong</strong>.</p>

<a href="javascript:alert('raw')">raw link</a> and <a href=" JaVaScRiPt:alert(1)">mixed case</a>

[markdown link](javascript:alert(1)) and [data link](data:text/html,<script>alert(1)</script>)

<svg onload="alert('svg')"><script>alert('in svg')</script></svg>

<form action="https://evil.example/"><input name="q"></form>

After.
"""


def test_raw_html_is_sanitized_by_default(scratch):
    site = scratch({**BILINGUAL, "content/en/hostile.md": page("Hostile", HOSTILE)})
    site.run()
    html = site.output("en/hostile/index.html")
    content = html.split('<main id="main"')[1].split("</main>")[0]
    assert "<script" not in content and "alert(" not in content
    assert not re.search(r"\son\w+\s*=", content)
    assert "javascript:" not in content.lower() and "data:text" not in content
    assert "<iframe" not in content and "<form" not in content and "<svg" not in content and "style=" not in content
    assert "<p>Styled <strong>and strong</strong>.</p>" in content
    assert '<img alt="Logo" src="/favicon.svg">' in content or '<img src="/favicon.svg" alt="Logo">' in content
    assert "<a>raw link</a>" in content and "<a>markdown link</a>" in content


def test_code_blocks_keep_their_code_escaped_and_lose_attributes_an_author_adds(scratch):
    plain = '```python\nif a < b and c > d: print("<script>alert(1)</script>")\n```\n'
    attributed = '``` { .js onclick="alert(1)" data-x="y" }\nx = "<b>"\n```\n'
    site = scratch({**BILINGUAL, "content/en/plain.md": page("Plain", plain),
                    "content/en/attributed.md": page("Attributed", attributed)})
    assert site.run().returncode == 0
    main = {name: site.output(f"en/{name}/index.html").split('<main id="main"')[1].split("</main>")[0]
            for name in ("plain", "attributed")}
    assert ('<pre><code class="language-python">if a &lt; b and c &gt; d: '
            'print(&quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot;)\n</code></pre>') in main["plain"]
    assert '<pre><code class="language-js">x = "&lt;b&gt;"\n</code></pre>' in main["attributed"]
    assert "onclick" not in main["attributed"] and "data-x" not in main["attributed"]


def test_allow_raw_html_keeps_trusted_html_as_written(scratch):
    trusted = '<video controls src="/clip.mp4"></video>\n\n<div class="callout" style="color: red">Call 911</div>'
    site = scratch({**BILINGUAL, "content/en/trusted.md": page("Trusted", trusted)})
    config = site.root / "site.toml"
    config.write_text("allow_raw_html = true\n" + config.read_text())
    assert site.run().returncode == 0
    html = site.output("en/trusted/index.html")
    assert '<video controls src="/clip.mp4"></video>' in html
    assert '<div class="callout" style="color: red">Call 911</div>' in html


def test_links_open_in_the_same_tab_and_any_new_tab_gets_noopener(scratch):
    body = ("[CDC](https://www.cdc.gov/) and [new tab](https://www.samhsa.gov/){target=_blank}\n\n"
            "<a href='https://example.org/' target='_blank' rel='nofollow'>raw</a>")
    site = scratch({**BILINGUAL, "content/en/links.md": page("Links", body)})
    site.run()
    html = site.output("en/links/index.html")
    assert '<a href="https://www.cdc.gov/">CDC</a>' in html
    assert '<a href="https://www.samhsa.gov/" target="_blank" rel="noopener">new tab</a>' in html
    assert 'rel="nofollow noopener"' in html

    config = site.root / "site.toml"
    config.write_text("allow_raw_html = true\n" + config.read_text())
    site.run()
    assert "<a href='https://example.org/' target='_blank' rel=\"nofollow noopener\">raw</a>" in \
        site.output("en/links/index.html")


# The output folder guard

@pytest.mark.parametrize("output", ["./content/..", "content/en/../..", "./templates/", "content/../static",
                                    "public/../seeds"])
def test_output_guard_resolves_relative_paths(scratch, output):
    site = scratch(BILINGUAL)
    result = site.run("--output", output)
    assert result.returncode == 2 and "error: refusing to write the site to" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("target", ["content", "content/en", ".", "templates"])
def test_output_guard_follows_symlinks(scratch, target):
    site = scratch(BILINGUAL)
    os.symlink(site.root / target, site.root / "published")
    before = sources(site.root / target)
    result = site.run("--output", "published")
    assert result.returncode == 2 and "error: refusing to write the site to" in result.stderr, result.stderr
    assert sources(site.root / target) == before


def sources(folder: Path) -> dict:
    """Every file below `folder` but the build cache, which belongs in the project."""
    return {rel: data for rel, data in files(folder).items() if not rel.startswith(".cache/")}


# Templates: autoescape and StrictUndefined

def test_titles_and_descriptions_are_escaped_everywhere(scratch):
    title = '</title><script>alert(1)</script> "quoted" & <b>bold</b>'
    site = scratch({**BILINGUAL, "content/en/escape.md": page("'" + title.replace("'", "''") + "'",
                                                              description="'</script><x onload=1>'")})
    assert site.run().returncode == 0
    html = site.output("en/escape/index.html")
    assert "<script>alert" not in html and "<b>bold</b>" not in html and "<x onload" not in html
    assert "&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html
    ld = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1)
    assert "</" not in ld and "\\u003c/script\\u003e" in ld


def test_every_template_environment_autoescapes_and_is_strict(scratch):
    from jinja2 import StrictUndefined
    from puente.i18n import load_catalogs
    from puente.theme import load_theme
    site = scratch(BILINGUAL)
    config = load_config(str(site.root))
    theme, problems = load_theme(config, load_catalogs(config)[0])
    assert not problems
    for env in theme.envs.values():
        assert env.undefined is StrictUndefined
        assert all(env.autoescape(name) for name in env.list_templates(extensions=["html", "xml"]))


# Reproducible builds

def test_builds_are_byte_identical_whatever_the_hash_seed_and_time_zone(scratch):
    site = scratch({**BILINGUAL, **{f"content/en/t{n}.md": page(f"T{n}", f"Text {n}.") for n in range(8)}})
    # UTC+14 and UTC-12 are always on different calendar days, so a local date anywhere would show.
    one = site.run("--output", "one", "--no-cache", env={"PYTHONHASHSEED": "0", "TZ": "Pacific/Kiritimati"})
    two = site.run("--output", "two", "--no-cache", env={"PYTHONHASHSEED": "4242", "TZ": "Etc/GMT+12"})
    assert one.returncode == two.returncode == 0, one.stderr + two.stderr
    assert files(site.root / "one") == files(site.root / "two")


def test_builds_do_not_depend_on_file_creation_or_listing_order(tmp_path, monkeypatch):
    pages = {**BILINGUAL, **{f"content/{lang}/{name}.md": page(name.title()) for lang in ("en", "es")
                             for name in ("zeta", "Alpha", "ñu", "beta", "10-steps", "2-steps")}}
    forward = Scratch(tmp_path / "site", pages).root
    backward = Scratch(tmp_path / "other" / "site", dict(reversed(list(pages.items())))).root
    normal = outputs(backward)

    real_scandir, real_listdir = os.scandir, os.listdir

    class ReversedScandir:
        """os.scandir, listing backwards (os.walk uses it both as an iterator and a context manager)."""

        def __init__(self, path="."):
            with real_scandir(path) as entries:
                self.entries = iter(list(entries)[::-1])

        def __iter__(self):
            return self

        def __next__(self):
            return next(self.entries)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def close(self):
            pass

    monkeypatch.setattr(os, "scandir", ReversedScandir)
    monkeypatch.setattr(os, "listdir", lambda path=".": real_listdir(path)[::-1])
    assert outputs(forward) == normal


def test_sitemap_is_sorted_by_url(scratch):
    names = ["zeta", "Alpha", "ñu", "beta", "10-steps", "2-steps", "guide/index", "guide/b", "guide/a"]
    site = scratch({**BILINGUAL, **{f"content/en/{n}.md": page(n.title()) for n in names}})
    assert site.run().returncode == 0
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locs = [u.find("s:loc", ns).text for u in ET.fromstring(site.output("sitemap.xml")).findall("s:url", ns)]
    assert locs == sorted(locs) and len(locs) == len(set(locs)) == 1 + 4 + len(names)


def files(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def outputs(root: Path) -> list:
    result = build(load_config(str(root)), write=False)
    assert not result.failed(), [str(d) for d in result.diagnostics]
    return [(o.path, o.data) for o in result.outputs]


# The Content-Security-Policy, enforced by a real browser

def response_headers(headers_file: str) -> dict:
    """Read a Netlify/Cloudflare `_headers` file, which must hold one rule for every path, `/*`."""
    rules, current = {}, None
    for line in headers_file.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            current = rules.setdefault(line.strip(), {})
        else:
            name, _, value = line.strip().partition(":")
            current[name.strip()] = value.strip()
    assert list(rules) == ["/*"], rules
    return rules["/*"]


@contextlib.contextmanager
def serve_with_headers(folder: Path, headers: dict):
    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(folder), **kwargs)

        def end_headers(self):
            for name, value in headers.items():
                self.send_header(name, value)
            super().end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation',
    e => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));
"""
CONTROL_PAGE = ('<!doctype html><html lang="en"><head><title>control</title><style>p{color:red}</style></head>'
                '<body><p style="color:blue" onclick="x()">inline</p><script>document.title = "ran"</script></body>'
                '</html>')


@pytest.mark.browser
def test_every_page_loads_under_the_csp_of_headers_without_violations(scratch, browser):
    site = scratch({
        **BILINGUAL,
        "content/en/naloxone.md": page("Naloxone", "## How to use it\n\nSpray it [@cdc-naloxone].\n\n"
                                       "![Naloxone logo](/favicon.svg)\n\n| Step | What |\n|---|---|\n| 1 | Call |\n\n"
                                       "!!! note\n    Stay with them.", order=2),
        "content/en/sources.md": page("Sources", "Where the facts come from.", template="sources.html"),
        "content/en/help/index.md": page("Help"), "content/en/help/lines.md": page("Lines", "[Help](index.md)"),
    })
    assert site.run().returncode == 0
    public = site.root / "public"
    headers = response_headers(site.output("_headers"))
    assert headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
    assert {"X-Content-Type-Options", "Referrer-Policy", "Permissions-Policy"} <= set(headers)
    (public / "csp-control.html").write_text(CONTROL_PAGE)
    paths = sorted(p.relative_to(public).as_posix() for p in public.rglob("*.html") if p.name != "csp-control.html")
    assert len(paths) >= 9

    with serve_with_headers(public, headers) as base:
        context = browser.new_context()  # never bypass_csp
        context.add_init_script(CSP_LISTENER)
        try:
            problems = {path: load(context, base + path.removesuffix("index.html"), headers) for path in paths}
            control = load(context, base + "csp-control.html", headers)
        finally:
            context.close()
    assert {path: found for path, found in problems.items() if found} == {}
    assert len(control) >= 3, control  # the listener sees inline style, style attribute and script


def load(context, url: str, headers: dict) -> list[str]:
    """Open one page and return every CSP violation, console error and failed request it caused."""
    page = context.new_page()
    found = []
    page.on("console", lambda m: found.append(f"console {m.type}: {m.text}")
            if m.type == "error" or "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: found.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: found.append(f"request failed: {r.url} {r.failure}"))
    page.on("response", lambda r: found.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    response = page.goto(url, wait_until="load")
    assert response.headers["content-security-policy"] == headers["Content-Security-Policy"]
    found += [f"violation: {v}" for v in page.evaluate("window.__cspViolations")]
    page.close()
    return found
