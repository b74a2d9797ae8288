"""Checks run page by page (cached, in parallel) find exactly what one run over the whole site finds."""

from conftest import PROJECT, BILINGUAL, page

from puente.check import CHECKS, SITE, run_checks
from puente.config import load_config
from puente.pipeline import build


def whole_site(result):
    """Run every check once over the whole site, the way a check is written."""
    return run_checks(result.site, result.rendered, _seeds(result), checks=[(c, SITE) for c, _ in CHECKS])


def _seeds(result):
    from puente.seeds import load_seeds
    return load_seeds(result.site.config)[0]


def test_page_by_page_equals_whole_site_on_the_project(tmp_path):
    config = load_config(str(PROJECT), output=str(tmp_path / "out"))
    result = build(config, write=False)
    assert run_checks(result.site, result.rendered, _seeds(result)) == whole_site(result)


def test_page_by_page_equals_whole_site_when_checks_fire(scratch):
    site = scratch({
        **BILINGUAL,
        "content/en/facts.md": page("Facts", "Call [988](tel:988). About 7 in 10 pills had 2 mg.\n\n# Extra title\n\n"
                                    "#### Skipped", reviewed="2001-01-01"),
        "content/es/facts.md": page("Datos", "Llame al [989](tel:989). Unas 6 de cada 10 pastillas."),
    })
    config = load_config(str(site.root))
    result = build(config, write=False)
    incremental = run_checks(result.site, result.rendered, _seeds(result), processes=1)
    assert incremental == whole_site(result)
    assert {d.code for d in incremental} >= {"uncited-figure", "fact-parity", "skipped-heading-level"}


def test_a_broken_glossary_is_reported_once(scratch):
    site = scratch({**BILINGUAL, "seeds/glossary.yaml": "- en: [naloxone\n  es: naloxona\n"})
    config = load_config(str(site.root))
    result = build(config, write=False)
    glossary = [d for d in result.diagnostics if d.path == "seeds/glossary.yaml"]
    assert len(glossary) == 1 and glossary[0].level == "error"
    assert [d for d in whole_site(result) if d.path == "seeds/glossary.yaml"] == glossary


def test_findings_made_in_the_render_workers_are_those_of_one_run_over_the_site(scratch):
    # Enough translation groups to render and check them in two worker processes.
    pages = {}
    for i in range(60):
        pages[f"content/en/many/p{i:02}.md"] = page(f"Page {i}", f"Call [988](tel:988). About {i % 9 + 1} in 10 pills "
                                                    f"had 2 mg.\n\n#### Skipped {i}", translation_key=f"many-{i}")
        pages[f"content/es/muchas/p{i:02}.md"] = page(f"Página {i}", "Llame al [989](tel:989). Unas 6 de cada 10 "
                                                      "pastillas.", translation_key=f"many-{i}")
    site = scratch({**BILINGUAL, **pages})
    serial = site.run("--no-cache", "--jobs", "1", "--output", "serial")
    parallel = site.run("--no-cache", "--jobs", "2", "--output", "parallel")
    problems = [line for line in parallel.stderr.splitlines() if ": warning: " in line or ": error: " in line]
    assert problems == [line for line in serial.stderr.splitlines() if ": warning: " in line or ": error: " in line]
    result = build(load_config(str(site.root)), write=False, processes=1)
    whole = whole_site(result)  # in another order: a pair's findings come together, not page by page
    assert sorted(map(str, whole)) == sorted(map(str, run_checks(result.site, result.rendered, _seeds(result))))
    codes = {d.code for d in whole}
    assert {line for line in problems if line.rsplit("[", 1)[-1].rstrip("]") in codes} == {str(d) for d in whole}
    assert codes >= {"uncited-figure", "fact-parity", "skipped-heading-level"} and len(whole) >= 240
