"""A whole flow with the keyboard alone (focus always visible), and a whole flow with JavaScript off."""
import pytest

pytestmark = pytest.mark.browser

FOCUS_VISIBLE = """() => {
  const el = document.activeElement, s = getComputedStyle(el);
  return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none';
}"""


def tab_to(page, predicate: str, limit: int = 40) -> None:
    """Press Tab until the focused element matches the JS predicate; fail if focus is ever invisible."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        assert page.evaluate(FOCUS_VISIBLE), page.evaluate("document.activeElement.outerHTML")
        if page.evaluate(f"() => {{ const el = document.activeElement; return {predicate}; }}"):
            return
    raise AssertionError(f"never reached {predicate}")


def test_oppose_with_the_keyboard_only(browser, live_server, enrol):
    holder = enrol(days_ago=10)
    context = browser.new_context(viewport={"width": 400, "height": 800})
    page = context.new_page()
    page.goto(live_server + "/")
    tab_to(page, "el.getAttribute('href') && el.getAttribute('href').includes('next=oppose')")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    for field, value in holder.form().items():
        tab_to(page, f"el.id === '{field}'")
        page.keyboard.type(value)
    tab_to(page, "el.tagName === 'BUTTON' && el.closest('main')")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("h1").inner_text()
    tab_to(page, "el.tagName === 'BUTTON' && el.classList.contains('warning')")
    with page.expect_navigation():
        page.keyboard.press("Space")
    reference = page.locator(".ref").inner_text().replace(" ", "")
    assert len(reference) == 9 and reference.isdigit()
    # Shift+Tab goes back through the page without losing sight of the focus
    page.keyboard.press("Shift+Tab")
    assert page.evaluate(FOCUS_VISIBLE)
    context.close()


def test_emergency_setting_with_javascript_off(browser, live_server, enrol):
    holder = enrol(days_ago=60)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server + "/identify?next=emergency")
    for field, value in holder.form().items():
        page.fill(f"#{field}", value)
    page.locator("main form button").click()
    page.locator("a[href='/emergency/samu/off']").click()
    page.locator("main form button").click()
    assert page.locator(".ref").count() == 1
    page.goto(live_server + "/emergency")
    assert page.locator("a[href='/emergency/samu/on']").count() == 1
    context.close()
