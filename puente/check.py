"""Stage 4: checks over the rendered site. Each check takes the site and renders and yields diagnostics."""

from __future__ import annotations

from difflib import get_close_matches

from .checks.citations import check_uncited_figures, check_unused_sources
from .checks.glossary import check_glossary
from .checks.headings import check_headings
from .checks.parity import check_fact_parity
from .checks.readability import SYLLABLES, check_readability
from .checks.review import check_review_due
from .checks.translation import check_outdated_translations
from .model import ERROR, Diagnostic, Inspected
from .workers import parallel_map


def check_anchors(site, rendered, seeds):
    """A link to `page#anchor` or `#anchor` must name a heading id (or other id) on the target page."""
    by_url = {r.page.url: r for r in rendered}
    for r in rendered:
        for link in r.links:
            if link.kind == "static" or not link.fragment:
                continue
            target = by_url.get(link.target_url)
            target_ids = target.heading_ids | _source_ids(target) if target else frozenset()
            if link.fragment not in target_ids:
                hint = get_close_matches(link.fragment, sorted(target_ids), n=1)
                yield Diagnostic(ERROR, "broken-anchor",
                                 f"link {link.href!r}: the page {link.target_url} has no heading #{link.fragment}"
                                 + (f"; did you mean #{hint[0]}?" if hint else ""), r.page.source, link.line)


def _source_ids(rendered) -> frozenset:
    """The ids the template adds for the source list, so `#source-1` links resolve."""
    return frozenset(f"source-{i}" for i in range(1, len(rendered.citations) + 1)) | {"page-sources", "main"}


SITE, PAGE, PAIR = "site", "page", "pair"
"""What a check's findings for one page depend on: the whole site, that page, or it and its translations."""

CHECKS = [
    (check_anchors, SITE), (check_headings, PAGE), (check_uncited_figures, PAGE), (check_fact_parity, PAIR),
    (check_glossary, PAIR), (check_readability, PAGE), (check_review_due, PAGE),
    (check_outdated_translations, PAIR), (check_unused_sources, SITE),
]
"""Every check with its scope, in the order its diagnostics are reported."""


def run_checks(site, rendered, seeds, cache=None, checks=None, processes=None, known=None) -> tuple[Diagnostic, ...]:
    """Run the checks and return their diagnostics in a stable order.

    Page and pair checks run once per page, on that page and its translations only, so their findings
    can be cached by what they looked at, and computed in parallel: the result is the same as one run
    over the whole site. `known` holds the findings the render workers already made (`Checker.inspect`).
    """
    checks = checks or CHECKS
    scoped = [(check, scope) for check, scope in checks if scope != SITE]
    per_page = _per_page_findings(Checker(site, seeds, cache, scoped), rendered, known or Inspected(), processes)
    found = []
    for check, scope in checks:
        if scope == SITE:
            found.extend(check(site, rendered, seeds))
        else:
            found.extend(d for findings in per_page for d in findings[check.__name__])
    return tuple(found)


def _per_page_findings(checker, rendered, known: Inspected, processes) -> list[dict]:
    """For each rendered page, {check name: its diagnostics on that page}, from the cache where it can.

    A page's own checks are cached by that page alone; pair checks run once per translation group and
    are cached by the whole group. An edit to one page re-runs only its own checks and its group's.
    """
    if not checker.scoped:
        return [{} for _ in rendered]
    cache = checker.cache
    context = _CheckContext(checker, rendered)
    memory = cache.memory if cache is not None else None
    recent = _unchanged_findings(memory, checker, rendered)
    scopes = sorted({scope for _, scope in checker.scoped})
    keys = [recent[i][2] if i in recent else {scope: checker.key(context.looked_at(r, scope), scope) for scope in scopes}
            for i, r in enumerate(rendered)]
    results = [None if i in recent else {scope: known.findings.get(keys[i][scope]) or checker.cached(keys[i][scope])
                                         for scope in scopes} for i in range(len(rendered))]
    for i in recent:
        for key in keys[i].values():
            checker.cached(key)  # carried to the next build, as a lookup would
    # One task per page for its own checks and one per translation group for the pair checks, a group's
    # tasks side by side, so the worker that reads one page has the others' blocks at hand.
    tasks = {}
    for i, found in enumerate(results):
        for scope, one in (found or {}).items():
            if one is None:
                tasks.setdefault(keys[i][scope], (i, scope))
    missing = sorted(tasks.items(), key=lambda item: (rendered[item[1][0]].page.translation_key,
                                                      rendered[item[1][0]].page.lang, item[1][1]))
    done = parallel_map(context.findings_and_words, [task for _, task in missing], processes)
    computed = {key: found for (key, _), (found, _) in zip(missing, done)}
    for key, found in [*known.findings.items(), *computed.items()]:
        if cache:
            cache.put("values", key, found)
    SYLLABLES.keep(cache, checker.kept, {**known.words, **{word: n for _, words in done for word, n in words.items()}})
    for i, found in enumerate(results):
        for scope, one in (found or {}).items():
            one = computed[keys[i][scope]] if one is None else one
            found[scope] = one[rendered[i].page.source] if scope == PAIR else one  # a group's: this page's share
    merged = [recent[i][1] if i in recent else {name: diagnostics for one in results[i].values()
                                                for name, diagnostics in one.items()} for i in range(len(rendered))]
    if memory is not None:
        memory["findings"] = (checker.settings, {r.page.source: (r, merged[i], keys[i]) for i, r in enumerate(rendered)})
    return merged


def _unchanged_findings(memory, checker, rendered) -> dict:
    """{index: (Rendered, findings, keys)} for pages whose group is made of the very objects the last build
    in this process checked (the preview reuses unchanged pages' objects): no key needs computing."""
    if memory is None or "findings" not in memory or memory["findings"][0] != checker.settings:
        return {}
    last = memory["findings"][1]
    current = {r.page.source for r in rendered}
    changed = {r.page.translation_key for r in rendered if last.get(r.page.source, (None,))[0] is not r}
    changed |= {entry[0].page.translation_key for source, entry in last.items() if source not in current}
    return {i: last[r.page.source] for i, r in enumerate(rendered) if r.page.translation_key not in changed}


class Checker:
    """The page and pair checks, and the cache keys of their findings; inherited by worker processes
    through fork, the render stage's too, which checks each translation group as soon as it is rendered."""

    def __init__(self, site, seeds, cache=None, scoped=None):
        from .cache import digest, today
        self.site, self.seeds, self.cache = site, seeds, cache
        self.scoped = scoped if scoped is not None else [(check, scope) for check, scope in CHECKS if scope != SITE]
        config = site.config
        self.settings = digest(today(), sorted(config.readability.items()), config.review_months, config.langs,
                               _file(config.path("seeds", "glossary.yaml")), list(seeds.sources.values()),
                               [check.__name__ for check, _ in self.scoped])
        self.kept = SYLLABLES.recall(cache)  # before rendering forks, so every worker starts from it

    def key(self, looked_at, scope: str) -> tuple:
        return ("checks", self.settings, scope, *(r.check_key for r in looked_at))

    def cached(self, key):
        return self.cache.get("values", key) if self.cache else None

    def findings(self, looked_at: list, wanted: str) -> dict:
        """One page's own checks, {check name: diagnostics}; or its group's pair checks, run once for the
        whole group, {page source: {check name: diagnostics}}."""
        sources = {r.page.source for r in looked_at}
        result = {r.page.source: {} for r in looked_at}
        for check, scope in self.scoped:
            if scope == wanted:
                found = tuple(check(self.site, looked_at, self.seeds))
                for source, mine in result.items():  # what names no page of the group is each page's
                    mine[check.__name__] = tuple(d for d in found if d.path == source or d.path not in sources)
        return result if wanted == PAIR else result[looked_at[0].page.source]

    def inspect(self, rendered: list, others) -> Inspected:
        """What the render stage calls with the pages of a translation group it just rendered (`others`
        maps a page's source to the Rendered of its group's pages it did not): the findings of each page's
        own checks, and of the group's pair checks once every page of the group is at hand, that the cache
        lacks; and the syllable counts learned (a worker's would otherwise be lost with it)."""
        if not self.scoped:
            return Inspected(covered=frozenset(r.page.source for r in rendered))
        here = {r.page.source: r for r in rendered}
        found, covered = {}, set()
        for r in rendered:
            group = self._group(r, here, others)
            for scope, looked_at in ((PAGE, [r]), (PAIR, group)):
                key = self.key(looked_at, scope) if looked_at else None
                if key is not None and key not in found and self.cached(key) is None:
                    found[key] = self.findings(looked_at, scope)
            if group:
                covered.add(r.page.source)
        return Inspected(found, SYLLABLES.take(), frozenset(covered))

    def _group(self, r, here, others) -> list:
        """The page's group as `group` makes it from the site's pages; [] when one is not at hand."""
        def at(translation_key, lang):
            member = self.site.page(translation_key, lang)
            return member and (here.get(member.source) or others.get(member.source) or MISSING)
        group = self.group(r, at)
        return [] if any(g is MISSING for g in group) else group

    def group(self, r, at) -> list:
        """The page and its translations that exist, in language order (the same list for each of them),
        `at(translation_key, lang)` giving each one's Rendered."""
        if at(r.page.translation_key, r.page.lang) is not r:
            return [r]  # a second page of the same key and language (an error already) is checked alone
        found = (at(r.page.translation_key, lang) for lang in self.site.config.langs)
        return [g for g in found if g is not None]


MISSING = object()
"""A page of a group whose Rendered the render stage does not have at hand."""


class _CheckContext:
    """The pages `run_checks` was given, grouped; inherited by worker processes through fork."""

    def __init__(self, checker: Checker, rendered):
        self.checker, self.rendered = checker, rendered
        self.by_key = {(r.page.translation_key, r.page.lang): r for r in rendered}

    def group(self, r) -> list:
        return self.checker.group(r, lambda translation_key, lang: self.by_key.get((translation_key, lang)))

    def looked_at(self, r, scope: str) -> list:
        return self.group(r) if scope == PAIR else [r]

    def findings_and_words(self, task: tuple[int, str]) -> tuple[dict, dict]:
        """The findings of one page's own checks or its group's pair checks, and the syllable counts the
        readability check made for them (a worker's would otherwise be lost with it)."""
        index, wanted = task
        return self.checker.findings(self.looked_at(self.rendered[index], wanted), wanted), SYLLABLES.take()


def _file(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return b""
