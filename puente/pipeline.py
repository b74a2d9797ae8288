"""The build, read top to bottom: load -> pair -> render -> check -> write."""

from __future__ import annotations

import time
from dataclasses import dataclass

from .check import run_checks
from .config import Config
from .i18n import load_catalogs
from .load import load_pages
from .model import Diagnostic, Output, Rendered, Site, has_errors
from .pair import pair_translations
from .render import Renderer, collect_assets, render_pages
from .seeds import load_seeds
from .sitefiles import render_site_files
from .theme import load_theme
from .write import output_problems, write_outputs


@dataclass(frozen=True)
class BuildResult:
    """What a build did: its diagnostics, and the site when it got that far."""

    diagnostics: tuple[Diagnostic, ...]
    site: Site | None = None
    rendered: tuple[Rendered, ...] = ()
    outputs: tuple[Output, ...] = ()
    seconds: float = 0.0
    written: bool = False

    def failed(self, strict: bool = False) -> bool:
        return has_errors(self.diagnostics, strict)


def build(config: Config, *, strict: bool = False, write: bool = True, processes: int | None = None) -> BuildResult:
    """Build the whole site; write it only when nothing failed."""
    started = time.perf_counter()
    diagnostics = list(output_problems(config)) if write else []
    pages, found = load_pages(config)
    diagnostics += found
    site, found = pair_translations(config, pages)
    diagnostics += found
    seeds, found = load_seeds(config)
    diagnostics += found
    catalogs, found = load_catalogs(config)
    diagnostics += found
    theme, found = load_theme(config, catalogs)
    diagnostics += found
    if theme is None or has_errors(found):
        return BuildResult(tuple(diagnostics), site, seconds=time.perf_counter() - started)
    assets = collect_assets(config)
    rendered = render_pages(Renderer(site, seeds, theme, assets), processes)
    diagnostics += [d for r in rendered for d in r.diagnostics]
    diagnostics += run_checks(site, rendered, seeds)
    outputs = site_outputs(site, theme, assets, seeds, rendered, diagnostics)
    done = BuildResult(tuple(diagnostics), site, rendered, tuple(outputs), time.perf_counter() - started)
    if write and not done.failed(strict):
        write_outputs(config, outputs)
        done = BuildResult(done.diagnostics, site, rendered, done.outputs, time.perf_counter() - started, True)
    return done


def site_outputs(site, theme, assets, seeds, rendered, diagnostics) -> list[Output]:
    """Collect every file of the finished site, in path order."""
    from .render import template_problem
    outputs = [Output(r.page.url.lstrip("/") + "index.html", r.html.encode()) for r in rendered if r.html]
    try:
        outputs += render_site_files(site, theme, assets, seeds)
    except Exception as exc:  # a broken landing or 404 template is the user's to fix, reported like any other
        diagnostics.append(template_problem(site.config, exc))
    outputs += assets.outputs()
    return sorted(outputs, key=lambda o: o.path)
