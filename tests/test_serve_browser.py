"""The live preview in a real browser: open tabs reload by themselves, with no action in the test."""

import time

import pytest

from conftest import BILINGUAL, page
from test_serve import BROKEN_LINK_ES, running_preview

pytestmark = pytest.mark.browser
RELOAD_TIMEOUT_MS = 10_000


def loads_of(tab) -> list:
    """Record every page load of the tab (the first included)."""
    loads = []
    tab.on("load", lambda _: loads.append(time.monotonic()))
    return loads


def test_page_reloads_by_itself_after_each_of_two_saves_a_second_apart(scratch, browser):
    from playwright.sync_api import expect
    site = scratch(BILINGUAL)
    with running_preview(site) as preview:
        tab = browser.new_page()
        loads = loads_of(tab)
        tab.goto(preview.url + "en/naloxone/")
        first_save = time.monotonic()
        site.write({"content/en/naloxone.md": page("Naloxone", "First save.", order=2)})
        expect(tab.locator("main")).to_contain_text("First save.", timeout=RELOAD_TIMEOUT_MS)
        # livereload alone drops a reload within 3 s of the previous one: this save comes after one
        time.sleep(max(0.0, first_save + 1.0 - time.monotonic()))
        site.write({"content/en/naloxone.md": page("Naloxone", "Second save.", order=2)})
        expect(tab.locator("main")).to_contain_text("Second save.", timeout=RELOAD_TIMEOUT_MS)
        # The text shows before the page's load event fires (stylesheet, icons): wait for the event.
        tab.wait_for_load_state("load")
        deadline = time.monotonic() + 2
        while len(loads) < 3 and time.monotonic() < deadline:
            tab.wait_for_timeout(50)
        assert len(loads) == 3, "the first load and one reload per save"
        tab.close()


def test_error_page_replaces_the_page_then_recovers_by_itself(scratch, browser):
    from playwright.sync_api import expect
    site = scratch(BILINGUAL)
    with running_preview(site) as preview:
        tab = browser.new_page()
        tab.goto(preview.url + "es/naloxona/")
        site.write({"content/es/naloxona.md": BROKEN_LINK_ES})
        expect(tab.locator("h1")).to_have_text("The site could not be built", timeout=RELOAD_TIMEOUT_MS)
        expect(tab.locator(".problems li")).to_contain_text("content/es/naloxona.md:6: link to 'nada.md'")
        site.write({"content/es/naloxona.md": page("Naloxona", "Arreglado.", translation_key="naloxone")})
        expect(tab.locator("main")).to_contain_text("Arreglado.", timeout=RELOAD_TIMEOUT_MS)
        assert tab.get_attribute("html", "lang") == "es"
        tab.close()


def test_compare_view_shows_each_language_and_reloads_like_any_page(scratch, browser):
    from playwright.sync_api import expect
    site = scratch(BILINGUAL)
    with running_preview(site) as preview:
        tab = browser.new_page()
        tab.goto(preview.url + "en/naloxone/")
        tab.click("text=Compare the languages side by side")
        tab.wait_for_url("**/_compare/naloxone/")
        assert tab.get_attribute("html", "lang") == "en"
        expect(tab.locator('section[lang="en"] .compare-title')).to_have_text("Naloxone")
        expect(tab.locator('section[lang="es"] .compare-title')).to_have_text("Naloxona")
        site.write({"content/es/naloxona.md": page("Naloxona", "Texto nuevo.", translation_key="naloxone")})
        expect(tab.locator('section[lang="es"]')).to_contain_text("Texto nuevo.", timeout=RELOAD_TIMEOUT_MS)
        tab.close()


def test_tab_that_missed_a_reload_catches_up_when_its_socket_connects(scratch, browser):
    from playwright.sync_api import expect
    site = scratch(BILINGUAL)
    with running_preview(site) as preview:
        tab = browser.new_page()
        held = []
        hold = lambda route: held.append(route)  # noqa: E731
        tab.route("**/livereload.js*", hold)  # the tab has no socket while the build finishes
        tab.goto(preview.url + "en/naloxone/", wait_until="domcontentloaded")
        while not held:
            tab.wait_for_timeout(20)
        site.write({"content/en/naloxone.md": page("Naloxone", "Saved while reloading.", order=2)})
        preview.wait_for_line(r"^rebuilt 1 file after content/en/naloxone\.md changed")
        held[0].continue_()  # later loads stay held: the reload must come from the build id alone
        expect(tab.locator("main")).to_contain_text("Saved while reloading.", timeout=RELOAD_TIMEOUT_MS)
        tab.close()
