"""Stage 3b: pages and site-wide files -> complete HTML documents."""

from __future__ import annotations

import hashlib
import os
import traceback
from dataclasses import dataclass

from .convert import Converter, LinkMap
from .model import ERROR, Config, Diagnostic, Output, Page, Rendered, Site

PARALLEL_THRESHOLD = 50
"""Below this many pages, starting worker processes costs more than it saves."""
SITE_WIDE_TEMPLATES = {"sources.html"}
"""Templates that list what every other page cites, so they are rendered last."""


@dataclass(frozen=True)
class Assets:
    """The files of static/, with CSS names fingerprinted so every deploy busts caches."""

    published: dict
    """Path in static/ -> path in the output: `style.css` -> `style.3f2a9c1d.css`."""
    files: dict
    """Path in static/ -> absolute source path."""

    def outputs(self):
        for logical, published in sorted(self.published.items()):
            with open(self.files[logical], "rb") as f:
                yield Output(published, f.read())


def collect_assets(config: Config) -> Assets:
    """List static/ and fingerprint its stylesheets."""
    root = config.path("static")
    files = {}
    for here, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            path = os.path.join(here, name)
            files[os.path.relpath(path, root).replace(os.sep, "/")] = path
    published = {logical: _fingerprinted(logical, path) for logical, path in files.items()}
    return Assets(published, files)


def _fingerprinted(logical: str, path: str) -> str:
    if not logical.endswith(".css"):
        return logical
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:10]
    return f"{logical[:-4]}.{digest}.css"


def template_problem(config: Config, exc: Exception) -> Diagnostic:
    """Turn a Jinja error into `templates/x.html:line` with the reason."""
    from jinja2 import TemplateSyntaxError, UndefinedError
    templates = config.path("templates")
    if isinstance(exc, TemplateSyntaxError):
        name = exc.filename or (os.path.join(templates, exc.name) if exc.name else templates)
        return Diagnostic(ERROR, "template-syntax", exc.message or str(exc), config.relative(name), exc.lineno)
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith(templates)]
    where = frames[-1] if frames else None
    code = "template-undefined" if isinstance(exc, UndefinedError) else "template-error"
    return Diagnostic(ERROR, code, f"{type(exc).__name__}: {exc}",
                      config.relative(where.filename) if where else "templates", where.lineno if where else None)


class Renderer:
    """Everything needed to render any page; built once and shared with worker processes by fork."""

    def __init__(self, site: Site, seeds, theme, assets: Assets):
        self.site, self.seeds, self.theme, self.assets = site, seeds, theme, assets
        config = site.config
        self.link_map = LinkMap(
            base_path=config.base_path,
            page_urls={(p.lang, p.rel_path): p.url for p in site.pages},
            urls=frozenset(p.url for p in site.pages),
            static_files=frozenset(assets.files),
            source_ids=frozenset(seeds.sources),
            allow_raw_html=config.allow_raw_html,
        )
        self._converter = None

    @property
    def converter(self) -> Converter:
        if self._converter is None:
            self._converter = Converter(self.link_map)
        return self._converter

    def render_page(self, page: Page, cited=()) -> Rendered:
        """Convert and template one page; errors become diagnostics, never exceptions."""
        fragment = self.converter.convert(page)
        try:
            html = self.theme.render_page(self, page, fragment, cited)
        except Exception as exc:  # a template bug must be reported, not crash the build
            html = ""
            diagnostics = (*fragment.diagnostics, template_problem(self.site.config, exc))
        else:
            diagnostics = fragment.diagnostics
        return Rendered(page, html, fragment.html, fragment.heading_ids, fragment.headings,
                        fragment.links, fragment.citations, tuple(diagnostics))


_RENDERER: Renderer | None = None


def _render_in_worker(index: int) -> Rendered:
    return _RENDERER.render_page(_RENDERER.site.pages[index])


def render_pages(renderer: Renderer, processes: int | None = None) -> tuple[Rendered, ...]:
    """Render every page, across processes when there is enough work; the output is identical either way."""
    global _RENDERER
    site = renderer.site
    regular = [i for i, p in enumerate(site.pages) if p.template not in SITE_WIDE_TEMPLATES]
    workers = processes if processes is not None else min(os.cpu_count() or 1, 4)
    if len(regular) > PARALLEL_THRESHOLD and workers > 1 and _can_fork():
        import multiprocessing
        _RENDERER = renderer
        try:
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                done = pool.map(_render_in_worker, regular, chunksize=max(1, len(regular) // (workers * 8)))
        finally:
            _RENDERER = None
    else:
        done = [renderer.render_page(site.pages[i]) for i in regular]
    cited = sorted({key for r in done for key in r.citations})
    last = [renderer.render_page(p, cited) for p in site.pages if p.template in SITE_WIDE_TEMPLATES]
    every = sorted([*done, *last], key=lambda r: (r.page.lang, r.page.url))
    return tuple(every)


def _can_fork() -> bool:
    import multiprocessing
    return "fork" in multiprocessing.get_all_start_methods()
