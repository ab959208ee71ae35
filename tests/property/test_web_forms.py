"""Every web form, with any text in any field (or none), with and without a valid CSRF token, signed in or not.

The property: the answer is a page (or a redirect), never a 500; and the state is unchanged unless the input
was valid. When valid input changes something, it is one action with one receipt, and the answer leads to it.
"""
from urllib.parse import quote

import pytest
from bs4 import BeautifulSoup
from hypothesis import event, example, given
from hypothesis import strategies as st

from app import clock
from app.services import identity
from app.services.crypto import lookup

from .conftest import (
    DIGIT_LOOKALIKES,
    NIR_UNKNOWN,
    assert_unchanged,
    changed_tables,
    describe_change,
    examples,
    extra_fields,
    snapshot,
    weird_or_huge,
    weird_text,
)

OMIT = object()  # the field is left out of the request


def nir_variants(nir: str) -> list[str]:
    spaced = " ".join([nir[0], nir[1:3], nir[3:5], nir[5:7], nir[7:10], nir[10:13], nir[13:]])
    return [nir, spaced, nir.lower(), f"  {nir}  ", spaced.replace(" ", ".")]


def date_variants(d) -> list[str]:
    return [d.strftime("%d/%m/%Y"), d.isoformat(), d.strftime("%d%m%Y"), d.strftime("%d %m %Y"),
            d.strftime("%d.%m.%Y"), d.strftime("%d-%m-%Y")]


def code_variants(code: str) -> list[str]:
    return [code, code.lower(), f"{code[:4]}-{code[4:8]}-{code[8:]}", f"{code[:4]} {code[4:8]} {code[8:]}"]


def field(data, true: list[str] = (), others: list[str] = (), aim: str = "random"):
    """(value or OMIT, whether the value is one of the right ones); aiming right, mostly a right one."""
    if aim == "right" and true:
        value = data.draw(st.one_of(*[st.sampled_from(list(true))] * 9, weird_text))
        return value, value in true
    options = [st.just(OMIT), weird_or_huge, weird_or_huge]
    if true:
        options += [st.sampled_from(list(true))] * 2
    if others:
        options.append(st.sampled_from(list(others)))
    value = data.draw(st.one_of(*options))
    return value, value is not OMIT and value in true


def integer_in_path(known: list[int], aim: str = "random"):
    if aim == "right":
        return st.sampled_from(known)
    return st.one_of(st.sampled_from(known), st.integers(-5, 20), st.integers(0, 2 ** 63),
                     st.integers(2 ** 63, 10 ** 40))


def page_token(client, url: str) -> str | None:
    for candidate in (url, "/identify"):
        response = client.get(candidate)
        assert response.status_code < 500, (candidate, response.status_code)
        found = BeautifulSoup(response.get_data(as_text=True), "html.parser").select_one("input[name=csrf_token]")
        if found is not None:
            return found["value"]
    return None


def is_page(response) -> bool:
    if response.status_code in (301, 302, 303, 308):
        return bool(response.headers.get("Location"))
    if response.status_code == 413:
        return True  # too large for any form: refused before any view runs
    return "<h1" in response.get_data(as_text=True)


ACTION = "action"  # a change needs its receipt: one new ActionRecord and a redirect to /receipt/<reference>


def draw_route(route: str, w, data):
    """(url, form fields, whether the input is valid, which state tables valid input may change)."""
    h, c, t = w.h, w.c, w.t
    aim = data.draw(st.sampled_from(["right", "random"]), label="aim")
    next_step = data.draw(st.one_of(st.just(None), st.sampled_from(["space", "oppose", "history"]), weird_text))
    query = "" if next_step is None else "?next=" + quote(next_step, safe="")
    fields: dict = {}
    valid = True

    def put(name, value_and_ok):
        nonlocal valid
        value, ok = value_and_ok
        valid = valid and ok
        if value is not OMIT:
            fields[name] = value

    def token():
        value = data.draw(st.text(min_size=1, max_size=30) if aim == "right" else
                          st.one_of(st.just(OMIT), weird_or_huge, st.text(min_size=1, max_size=30)))
        if value is not OMIT:
            fields["token"] = value
        return value is not OMIT and value != ""

    if route in ("identify", "identify_sms", "code_new"):
        put("nir", field(data, nir_variants(h.nir), [NIR_UNKNOWN, c.nir, "2400375112005", h.vitale_serial], aim=aim))
        put("vitale_serial", field(data, [h.vitale_serial, "801 2345 6789"], [c.vitale_serial, h.nir], aim=aim))
        put("birth_date", field(data, date_variants(h.birth_date), date_variants(c.birth_date), aim=aim))
        if route == "identify":
            put("code", field(data, code_variants(h.code), [c.code, "AAAAAAAAAAAA"], aim=aim))
        url = {"identify": "/identify", "identify_sms": "/identify/sms", "code_new": "/code/new"}[route] + query
        allowed = {"identify": {"provisional_code"}, "identify_sms": {"outbox_message"},
                   "code_new": {"provisional_code", "outbox_message"}}[route]
        return url, fields, valid, allowed
    if route == "identify_sms_code":
        put("code", field(data, [w.sms_code, f"{w.sms_code[:3]} {w.sms_code[3:]}"], ["000000", "12345"], aim=aim))
        return "/identify/sms/code" + query, fields, valid, set()
    if route == "acting_for":
        put("person", field(data, [str(h.person_id), str(w.r.person_id)], [str(t.person_id), "0", "-1"], aim=aim))
        return "/acting-for" + query, fields, valid, set()
    if route in ("oppose", "reopen"):
        return "/" + route, fields, token(), ACTION
    if route == "close":
        ok = token()
        put("choice", field(data, ["archive", "delete"], ["ARCHIVE", "keep"], aim=aim))
        return "/close", fields, ok and valid, ACTION
    if route == "emergency":
        setting = data.draw(st.sampled_from(["samu", "break_glass", "masked"]) if aim == "right" else
                            st.one_of(st.sampled_from(["samu", "break_glass", "masked"]), weird_text))
        state = data.draw(st.sampled_from(["on", "off"]) if aim == "right" else
                          st.one_of(st.sampled_from(["on", "off"]), weird_text))
        ok = token()
        url = f"/emergency/{quote(setting, safe='')}/{quote(state, safe='')}"
        return url, fields, ok and setting in ("samu", "break_glass", "masked") and state in ("on", "off"), ACTION
    if route == "helper_new":
        ok = token()
        put("nir", field(data, nir_variants(c.nir), [t.nir, h.nir, NIR_UNKNOWN, w.r.nir], aim=aim))
        put("birth_date", field(data, date_variants(c.birth_date), date_variants(t.birth_date), aim=aim))
        put("months", field(data, ["3", "6", "12"], ["1", "24", "0", "-3", "999999999999"], aim=aim))
        return "/helpers/new", fields, ok and valid, ACTION
    if route == "helper_remove":
        mandate_id = data.draw(integer_in_path([w.helper_mandate_id, w.tutelle_id], aim))
        ok = token()
        return f"/helpers/{mandate_id}/remove", fields, ok and mandate_id == w.helper_mandate_id, ACTION
    if route in ("block", "report"):
        event_id = data.draw(integer_in_path(w.event_ids, aim))
        ok = token()
        return f"/history/{event_id}/{route}", fields, ok and event_id in w.event_ids, ACTION
    if route == "unblock":
        block_id = data.draw(integer_in_path([w.block_id], aim))
        ok = token()
        return f"/history/blocked/{block_id}/unblock", fields, ok and block_id == w.block_id, ACTION
    raise AssertionError(route)


ROUTES = ["identify", "identify_sms", "identify_sms_code", "code_new", "acting_for", "oppose", "close", "reopen",
          "emergency", "helper_new", "helper_remove", "block", "report", "unblock"]
SIGNED_IN_ONLY = {"acting_for", "oppose", "close", "reopen", "emergency", "helper_new", "helper_remove", "block",
                  "report", "unblock"}


def signed_in_client(app, w, signed_in: bool, for_other: bool, sms_for: bool, lang: str):
    client = app.test_client()
    client.set_cookie("lang", lang)
    if signed_in:
        with app.app_context():
            sid = identity.start_session(w.h.person_id)
    with client.session_transaction() as session:
        if signed_in:
            session["sid"] = sid
            if for_other:
                session["subject"] = w.r.person_id
        if sms_for:
            with app.app_context():
                session["sms_for"] = lookup("nir", w.h.nir)
    return client


@pytest.mark.parametrize("route", ROUTES)
@examples(40)
@given(data=st.data())
def test_any_form_input_gets_a_page_and_changes_nothing_unless_valid(app, world, route, data):
    state = data.draw(st.sampled_from(["notified", "active", "closed"]), label="space state")
    w = world(state, sms_code=route == "identify_sms_code")
    signed_in = data.draw(st.booleans(), label="signed in")
    client = signed_in_client(app, w, signed_in, for_other=data.draw(st.booleans(), label="acting for R"),
                              sms_for=data.draw(st.booleans(), label="SMS code asked"),
                              lang=data.draw(st.sampled_from(["fr", "en", "de", ""]), label="lang cookie"))
    url, fields, valid, allowed = draw_route(route, w, data)
    csrf = data.draw(st.sampled_from(["valid", "valid", "valid", "missing", "garbage", "another session's"]),
                     label="csrf")
    if csrf == "valid":
        fields["csrf_token"] = page_token(client, url)
    elif csrf == "garbage":
        fields["csrf_token"] = data.draw(weird_text)
    elif csrf == "another session's":
        fields["csrf_token"] = page_token(app.test_client(), "/identify")
    fields.update(data.draw(extra_fields(set(fields)), label="extra fields"))
    valid = valid and csrf == "valid" and (signed_in or route not in SIGNED_IN_ONLY)

    before = snapshot(app)
    response = client.post(url, data=fields)
    after = snapshot(app)

    assert response.status_code < 500
    assert is_page(response), (response.status_code, response.get_data(as_text=True)[:300])
    event(f"{'valid' if valid else 'invalid'} input, answer {response.status_code}")
    if not valid or not allowed:
        assert_unchanged(before, after, f"by POST {url}")
        return
    changed = changed_tables(before, after)
    if allowed is not ACTION:
        assert changed <= allowed, describe_change(before, after)
        return
    if changed:
        new_records = [r for r in after["action_record"] if r not in before["action_record"]]
        assert len(new_records) == 1 and len(after["action_record"]) == len(before["action_record"]) + 1, \
            describe_change(before, after)
        reference = new_records[0][1]
        assert response.status_code in (302, 303) and response.headers["Location"].endswith(f"/receipt/{reference}")


QUERY_VALUE = st.one_of(st.just(None), weird_text, st.sampled_from(["1", "2", "0", "-1", "999999", "1" * 30]),
                        st.dates().map(lambda d: d.strftime("%d/%m/%Y")), st.dates().map(str))


@examples(80)
@given(data=st.data(), date_from=QUERY_VALUE, date_to=QUERY_VALUE, page=QUERY_VALUE)
def test_history_with_any_query_shows_a_page_and_changes_nothing(app, world, data, date_from, date_to, page):
    w = world(data.draw(st.sampled_from(["active", "closed"])))
    signed_in = data.draw(st.booleans())
    client = signed_in_client(app, w, signed_in, for_other=data.draw(st.booleans()), sms_for=False, lang="fr")
    args = {k: v for k, v in (("from", date_from), ("to", date_to), ("page", page)) if v is not None}
    query = "&".join(f"{k}={quote(v, safe='')}" for k, v in args.items())
    before = snapshot(app)
    response = client.get("/history?" + query)
    assert response.status_code < 500
    assert response.status_code == (200 if signed_in else 302)
    assert is_page(response)
    assert_unchanged(before, snapshot(app), "by GET /history")


@examples(40)
@given(data=st.data(), path=st.one_of(weird_text, st.sampled_from(["123456789", "000000000", ""])))
def test_any_receipt_reference_or_page_id_is_a_page(app, world, data, path):
    """GET of the pages the forms live on, with any reference or id in the URL: 200, 302 or 404, nothing else."""
    w = world("active")
    client = signed_in_client(app, w, data.draw(st.booleans()), for_other=False, sms_for=False, lang="fr")
    number = data.draw(integer_in_path(w.event_ids))
    urls = [f"/receipt/{quote(path, safe='')}", f"/history/{number}/block", f"/history/{number}/report",
            f"/helpers/{number}/remove", f"/history/blocked/{number}/unblock",
            f"/emergency/{quote(path, safe='')}/on"]
    before = snapshot(app)
    for url in urls:
        response = client.get(url)
        assert response.status_code in (200, 302, 308, 404), (url, response.status_code)
        assert is_page(response)
    assert_unchanged(before, snapshot(app), "by a GET")



# --- the smallest inputs found so far that break the properties above, kept as their own properties ----------

DATE_FORMS = {"/identify": "birth_date", "/identify/sms": "birth_date", "/code/new": "birth_date",
              "/helpers/new": "birth_date"}


@examples(25)
@given(lookalike=st.sampled_from(DIGIT_LOOKALIKES))
@example(lookalike="²").via("found by test_any_form_input…[identify]: '²/01/1950' in birth_date")
def test_a_date_typed_with_a_digit_lookalike_is_a_form_error(app, world, lookalike):
    """'²' (or '①', '፩'…) passes str.isdigit() but not int(): the date field must say so, not answer 500."""
    w = world("active")
    for url, name in DATE_FORMS.items():
        client = signed_in_client(app, w, signed_in=url == "/helpers/new", for_other=False, sms_for=False, lang="fr")
        fields = {"csrf_token": page_token(client, url), "nir": w.c.nir, "vitale_serial": w.c.vitale_serial,
                  "code": w.c.code, "token": "t" * 22, "months": "3", name: f"{lookalike}/01/1950"}
        before = snapshot(app)
        response = client.post(url, data=fields)
        assert response.status_code == 200, (url, response.status_code)
        assert_unchanged(before, snapshot(app), f"by POST {url}")


@examples(25)
@given(lookalike=st.sampled_from(DIGIT_LOOKALIKES))
@example(lookalike="²").via("found by test_history_with_any_query…: to='0/0/000²'")
def test_history_filters_with_a_digit_lookalike_are_a_page(app, world, lookalike):
    w = world("active")
    client = signed_in_client(app, w, signed_in=True, for_other=False, sms_for=False, lang="fr")
    for query in (f"from={quote(lookalike)}/01/2026", f"to=01/01/{quote(lookalike * 4)}", f"page={quote(lookalike)}"):
        response = client.get("/history?" + query)
        assert response.status_code == 200, (query, response.status_code)


@examples(20)
@given(number=st.integers(min_value=2 ** 31, max_value=10 ** 30),
       url=st.sampled_from(["/history/{}/block", "/history/{}/report"]), method=st.sampled_from(["GET", "POST"]))
@example(number=2 ** 63, url="/history/{}/block", method="GET").via(
    "found by test_any_form_input…[block] and test_any_receipt_reference_or_page_id_is_a_page (SQLite)")
@example(number=2 ** 31, url="/history/{}/report", method="GET").via("the same on PostgreSQL: INTEGER is 32 bits")
def test_an_id_too_large_for_the_database_is_not_found(app, world, number, url, method):
    """/history/<int:event_id>/… takes any number of digits; one beyond the database's integer (64 bits in
    SQLite, 32 bits in PostgreSQL) must be a 404, not a 500."""
    w = world("active")
    client = signed_in_client(app, w, signed_in=True, for_other=False, sms_for=False, lang="fr")
    fields = {"csrf_token": page_token(client, "/space"), "token": "t" * 22}
    before = snapshot(app)
    response = client.open(url.format(number), method=method, data=fields if method == "POST" else None)
    assert response.status_code == 404
    assert_unchanged(before, snapshot(app))


@examples(20)
@given(route=st.sampled_from(["/oppose", "/close", "/reopen", "/emergency/samu/off", "/history/{event}/report",
                              "/history/{event}/block", "/history/blocked/{block}/unblock",
                              "/helpers/{helper}/remove"]),
       token=st.text(min_size=0, max_size=10).map(lambda t: t + "\x00"),
       state=st.sampled_from(["notified", "active", "closed"]))
@example(route="/reopen", token="\x00", state="closed").via("found by test_any_form_input…[reopen] on PostgreSQL")
def test_a_nul_byte_in_a_confirmation_token_is_not_a_500(app, world, route, token, state):
    """The token of a confirmation becomes part of the receipt's idempotency key: PostgreSQL refuses NUL bytes in
    text, so a NUL must be refused as bad input (or removed) before it reaches the database."""
    w = world(state)
    client = signed_in_client(app, w, signed_in=True, for_other=False, sms_for=False, lang="fr")
    url = route.format(event=w.event_ids[0], block=w.block_id, helper=w.helper_mandate_id)
    fields = {"csrf_token": page_token(client, url), "token": token, "choice": "archive"}
    before = snapshot(app)
    response = client.post(url, data=fields)
    assert response.status_code < 500
    after = snapshot(app)
    if changed_tables(before, after):
        assert len(after["action_record"]) == len(before["action_record"]) + 1


@examples(10)
@given(reference=st.text(st.sampled_from("0123456789"), max_size=9).map(lambda t: t + "\x00"))
@example(reference="\x00").via("found by test_any_receipt_reference_or_page_id_is_a_page on PostgreSQL")
def test_a_nul_byte_in_a_receipt_reference_is_not_found(app, world, reference):
    w = world("active")
    client = signed_in_client(app, w, signed_in=True, for_other=False, sms_for=False, lang="fr")
    assert client.get(f"/receipt/{quote(reference, safe='')}").status_code == 404


@examples(15)
@given(name=st.text(st.sampled_from("abcdeéèﷺ"), min_size=150, max_size=200),
       organisation=st.text(st.sampled_from("xyzﬁ"), min_size=150, max_size=200),
       action=st.sampled_from(["block", "report"]))
@example(name="N" * 200, organisation="O" * 200, action="block").via(
    "reading models.py: professional_key is String(400), built from 200 + 100 + 200 characters")
def test_any_access_the_api_accepts_can_be_blocked_or_reported_from_the_history(app, world, name, organisation,
                                                                              action):
    """Names as long as the API accepts (200, 100 and 200 characters, folded with NFKD which can lengthen
    them): blocking the professional from the history is one action with its receipt, never a 500."""
    from app.services import access as access_service
    w = world("active")
    with app.app_context():
        recorded, _decision, _created = access_service.record_access(access_service.AccessAttempt(
            nir=w.h.nir, occurred_at=clock.now(), professional_name=name, profession="p" * 100,
            organisation=organisation, mode="normal", section="Ordonnances"), "api")
        event_id = recorded.id
    client = signed_in_client(app, w, signed_in=True, for_other=False, sms_for=False, lang="fr")
    url = f"/history/{event_id}/{action}"
    before = snapshot(app)
    response = client.post(url, data={"csrf_token": page_token(client, url), "token": "t" * 22})
    assert response.status_code == 302 and "/receipt/" in response.headers["Location"], response.status_code
    assert len(snapshot(app)["action_record"]) == len(before["action_record"]) + 1
