"""Stage 4: checks over the rendered site. Each check takes the site and renders and yields diagnostics."""

from __future__ import annotations

from difflib import get_close_matches

from .checks.citations import check_uncited_figures, check_unused_sources
from .checks.glossary import check_glossary
from .checks.headings import check_headings
from .checks.parity import check_fact_parity
from .checks.readability import check_readability
from .checks.review import check_review_due
from .checks.translation import check_outdated_translations
from .model import ERROR, Diagnostic


def check_anchors(site, rendered, seeds):
    """A link to `page#anchor` or `#anchor` must name a heading id (or other id) on the target page."""
    ids = {r.page.url: r.heading_ids | _source_ids(r) for r in rendered}
    for r in rendered:
        for link in r.links:
            if link.kind == "static" or not link.fragment:
                continue
            target_ids = ids.get(link.target_url, frozenset())
            if link.fragment not in target_ids:
                hint = get_close_matches(link.fragment, sorted(target_ids), n=1)
                yield Diagnostic(ERROR, "broken-anchor",
                                 f"link {link.href!r}: the page {link.target_url} has no heading #{link.fragment}"
                                 + (f"; did you mean #{hint[0]}?" if hint else ""), r.page.source, link.line)


def _source_ids(rendered) -> frozenset:
    """The ids the template adds for the source list, so `#source-1` links resolve."""
    return frozenset(f"source-{i}" for i in range(1, len(rendered.citations) + 1)) | {"page-sources", "main"}


CHECKS = [check_anchors, check_headings, check_uncited_figures, check_fact_parity, check_glossary,
          check_readability, check_review_due, check_outdated_translations, check_unused_sources]
"""Every check, in the order its diagnostics are reported."""


def run_checks(site, rendered, seeds, checks=None) -> tuple[Diagnostic, ...]:
    """Run the checks and return their diagnostics in a stable order."""
    found = []
    for check in checks or CHECKS:
        found.extend(check(site, rendered, seeds))
    return tuple(found)
