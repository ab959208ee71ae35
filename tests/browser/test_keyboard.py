"""QUALITY §2 keyboard only: whole flows done with Tab, Shift+Tab, Enter and Space (and typing into the
focused field), never a click; the focus is visible at every stop."""
import pytest

pytestmark = pytest.mark.browser

# What has the focus, and whether a sighted keyboard user can see where it is.
FOCUS = """() => {
  const el = document.activeElement, s = getComputedStyle(el), r = el.getBoundingClientRect();
  const ring = (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none';
  const onScreen = r.width > 0 && r.height > 0 && r.right > 0 && r.bottom > 0
                   && r.left < innerWidth && r.top < innerHeight;
  return {tag: el.tagName.toLowerCase(), id: el.id, type: el.type || '', cls: el.className || '',
          href: el.getAttribute('href') || '', text: (el.innerText || '').trim().slice(0, 60),
          checked: !!el.checked, inMain: !!el.closest('main'), ring, onScreen, html: el.outerHTML.slice(0, 160)};
}"""


class Keyboard:
    def __init__(self, walk):
        self.walk, self.page = walk, walk.page
        self.stops: list[str] = []

    def focus(self) -> dict:
        return self.page.evaluate(FOCUS)

    def press(self, key: str) -> dict:
        self.page.keyboard.press(key)
        now = self.focus()
        if now["tag"] != "body":
            self.stops.append(f"{self.walk.path} {now['html']}")
            assert now["ring"], f"{self.walk.path}: focus not visible after {key} on {now['html']}"
            assert now["onScreen"], f"{self.walk.path}: focus off screen after {key} on {now['html']}"
        return now

    def tab_to(self, wanted, key: str = "Tab", limit: int = 40) -> dict:
        """Tab (or Shift+Tab) until the focused element matches `wanted(focus) -> bool`."""
        for _ in range(limit):
            now = self.press(key)
            if wanted(now):
                return now
        raise AssertionError(f"{self.walk.path}: {key} x {limit} never reached it; stops: {self.stops[-limit:]}")

    def activate(self, key: str = "Enter", status: int = 200) -> None:
        """Enter on a link or button (or Space on a button) loads the next page."""
        with self.page.expect_navigation() as navigation:
            self.page.keyboard.press(key)
        response = navigation.value
        assert response.status < 500, f"HTTP {response.status} after {key} on {self.walk.path}"
        assert response.status == status, f"HTTP {response.status} after {key} on {self.walk.path}"
        self.walk.check()

    def fill_in(self, values: dict) -> None:
        for field, value in values.items():
            now = self.tab_to(lambda f, field=field: f["id"] == field)
            assert now["tag"] == "input" and now["type"] == "text" and now["ring"], now
            self.page.keyboard.type(value)


def is_link_to(fragment):
    return lambda f: f["tag"] == "a" and fragment in f["href"]


def is_submit(style: str = ""):
    """The page's own button (not the header's "sign out"), with this style class if given."""
    return lambda f: f["tag"] == "button" and f["inMain"] and style in f["cls"].split() + [""]


def test_oppose_with_the_keyboard_only(open_walk, people):
    holder = people.enrol(days_ago=10)
    walk = open_walk("fr", viewport={"width": 400, "height": 800})
    keys = Keyboard(walk)
    walk.go("/")

    first = keys.press("Tab")                                        # the first stop: skip to content
    assert first["tag"] == "a" and first["href"] == "#main" and first["ring"], first
    keys.tab_to(is_link_to("next=oppose"))
    keys.activate()
    walk.at("/identify")

    keys.fill_in(holder.form())
    button = keys.tab_to(is_submit())
    assert button["ring"], button
    back = keys.press("Shift+Tab")                                   # back to the code, to check it
    assert back["id"] == "code" and back["ring"], back
    keys.tab_to(is_submit())
    keys.activate()
    walk.at("/oppose").sees("button.warning")

    keys.tab_to(is_submit("warning"))
    keys.activate("Space")
    walk.has_receipt()
    keys.tab_to(is_link_to("/space"))                                # and on, back to the space
    keys.activate()
    walk.at("/space")
    assert not walk.server_errors


def test_close_with_the_keyboard_only_recovering_from_an_error(open_walk, people):
    holder = people.enrol(days_ago=60)
    walk = open_walk("en", viewport={"width": 320, "height": 640})   # a small phone, with a keyboard
    keys = Keyboard(walk)
    walk.go("/")
    keys.tab_to(is_link_to("next=close"))
    keys.activate()
    keys.fill_in(holder.form())
    keys.tab_to(is_submit())
    keys.activate()
    walk.at("/close")

    keys.tab_to(is_submit("warning"))                                # no choice made: an error
    keys.activate()
    walk.at("/close").has_errors().sees("#choice-error")
    summary = keys.focus()                                           # the summary takes the focus
    assert "error-summary" in summary["cls"], summary
    keys.tab_to(is_link_to("#choice"))                               # its link leads to the question
    keys.page.keyboard.press("Enter")
    radio = keys.tab_to(lambda f: f["type"] == "radio")
    assert radio["id"] == "choice-archive" and not radio["checked"], radio
    keys.press("Space")
    assert keys.focus()["checked"], "Space did not choose the option"
    keys.tab_to(is_submit("warning"))
    keys.activate()
    walk.has_receipt()
    assert not walk.server_errors
