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
