"""Stage 3c: the site-wide files: landing page, 404, sitemap, robots.txt and _headers."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from markupsafe import Markup

from .model import Output, Site
from .theme import language_name

CONTENT_SECURITY_POLICY = ("default-src 'self'; object-src 'none'; base-uri 'none'; "
                           "form-action 'self'; frame-ancestors 'none'")
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}


def render_site_files(site: Site, theme, assets, seeds) -> list[Output]:
    """Return the landing page, 404 page, sitemap, robots.txt and _headers."""
    return [
        Output("index.html", _bilingual(site, theme, assets, seeds, "landing.html", "landing_part.html")),
        Output("404.html", _bilingual(site, theme, assets, seeds, "404.html", "404_part.html")),
        Output("sitemap.xml", sitemap(site).encode()),
        Output("robots.txt", robots(site).encode()),
        Output("_headers", headers(site).encode()),
    ]


def _bilingual(site: Site, theme, assets, seeds, template: str, part: str) -> bytes:
    """Render `part` once per language, then place the parts side by side, each marked with its lang."""
    config = site.config
    asset = lambda logical: config.base_path + assets.published.get(logical, logical)  # noqa: E731
    parts = []
    for lang in config.langs:
        body = theme.render_part(lang, part, home=site.home(lang), asset=asset, emergency=seeds.emergency_helplines())
        chrome = theme.render_part(lang, "_bilingual_strings.html")
        parts.append({"lang": lang, "html": Markup(str(body)), "heading": body.heading, "emergency_box": body.emergency_box,
                      "language": language_name(lang), "skip": chrome.skip, "disclaimer": chrome.disclaimer})
    return theme.render(config.default_lang, template, parts=parts, asset=asset).encode()


def sitemap(site: Site) -> str:
    """List every page with its alternates (only translations that exist) and x-default, sorted by URL."""
    config = site.config
    entries = []
    for page in sorted(site.pages, key=lambda p: p.url):
        links = "".join(
            f'\n    <xhtml:link rel="alternate" hreflang={quoteattr(p.lang)} href={quoteattr(config.base_url + p.url.lstrip("/"))}/>'
            for p in sorted((page, *site.alternates(page)), key=lambda p: config.langs.index(p.lang)))
        links += f'\n    <xhtml:link rel="alternate" hreflang="x-default" href={quoteattr(config.base_url)}/>'
        lastmod = f"\n    <lastmod>{page.reviewed.isoformat()}</lastmod>" if page.reviewed else ""
        entries.append(f"  <url>\n    <loc>{escape(config.base_url + page.url.lstrip('/'))}</loc>{lastmod}{links}\n  </url>")
    landing = f"  <url>\n    <loc>{escape(config.base_url)}</loc>\n  </url>"
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:xhtml="http://www.w3.org/1999/xhtml">\n'
            + "\n".join([landing, *entries]) + "\n</urlset>\n")


def robots(site: Site) -> str:
    return f"User-agent: *\nAllow: /\n\nSitemap: {site.config.base_url}sitemap.xml\n"


def headers(site: Site) -> str:
    """Security headers for hosts that read a _headers file (Netlify, Cloudflare Pages)."""
    lines = "".join(f"  {name}: {value}\n" for name, value in HEADERS.items())
    return f"/*\n{lines}"
