"""The language switcher in a real browser: it lands on the counterpart and <html lang> changes."""

from conftest import BILINGUAL


def test_switcher_click_lands_on_counterpart(scratch, browser, static_server):
    site = scratch(BILINGUAL)
    assert site.run("--base-url", "http://127.0.0.1/").returncode == 0
    base = static_server(site.root / "public")
    page = browser.new_page()
    page.goto(base + "en/naloxone/")
    assert page.get_attribute("html", "lang") == "en"
    page.click("a[hreflang=es][lang=es]")
    page.wait_for_url("**/es/naloxona/")
    assert page.get_attribute("html", "lang") == "es"
    page.close()
