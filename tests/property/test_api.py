"""POST /api/v1/access-events with any body: a right event gets 201; anything else gets 400 (413 when too
large, 401 without the key) with a plain error, and nothing is stored. Never a 500."""
import json

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from .conftest import assert_unchanged, examples, snapshot, weird_text
from .test_imports import BAD_FIELD, good_events, json_values

KEY = "operator-property-key"


@pytest.fixture
def api_key(app):
    app.config["OPERATOR_API_KEY"] = KEY
    yield KEY
    app.config["OPERATOR_API_KEY"] = ""


def post(app, body: bytes, content_type: str | None, authorization: str | None):
    headers = {}
    if content_type is not None:
        headers["Content-Type"] = content_type
    if authorization is not None:
        headers["Authorization"] = authorization
    return app.test_client().post("/api/v1/access-events", data=body, headers=headers)


def is_plain_error(response) -> bool:
    data = response.get_json(silent=True)
    if not isinstance(data, dict) or not isinstance(data.get("error"), str):
        return False
    errors = data.get("errors", {})
    return isinstance(errors, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in errors.items())


FIELDS = {"nir", "occurred_at", "professional_name", "profession", "organisation", "mode", "section", "reason",
          "professional_id", "event_id"}
JSON_TYPES = ["application/json", "application/json; charset=utf-8"]
raw_bodies = st.one_of(
    st.binary(max_size=200), weird_text.map(lambda t: t.encode("utf-8")),
    st.sampled_from([b"", b"null", b"{", b"}", b"[", b"{\"nir\":", b"\xff\xfe", b"\x00", b"NaN", b"1e999",
                     b"[" * 100_000, b"{\"a\":" * 50_000, b"\"" + b"x" * 300_000 + b"\""]),
)


@st.composite
def bodies(draw, nirs):
    """(bytes, whether it is a right event)."""
    kind = draw(st.sampled_from(["good", "corrupted", "missing", "json", "raw", "extra keys"]))
    event = draw(good_events(nirs, draw(st.one_of(st.none(), st.uuids().map(str)))))
    if kind == "good":
        return json.dumps(event, ensure_ascii=draw(st.booleans())).encode(), True
    if kind == "extra keys":  # unknown keys are ignored: still a right event
        event.update(draw(st.dictionaries(st.text(max_size=10).filter(lambda k: k not in FIELDS), json_values,
                                          max_size=3)))
        return json.dumps(event).encode(), True
    if kind == "corrupted":
        for name in draw(st.sets(st.sampled_from(sorted(BAD_FIELD)), min_size=1, max_size=3)):
            event[name] = draw(BAD_FIELD[name])
            if name == "mode" and event["mode"] in ("normal", "samu", "break_glass"):
                event["mode"] = "teleport"
        return json.dumps(event).encode(), False
    if kind == "missing":
        for name in draw(st.sets(st.sampled_from(["nir", "occurred_at", "professional_name", "profession",
                                                  "organisation", "mode", "section"]), min_size=1)):
            del event[name]
        return json.dumps(event).encode(), False
    if kind == "json":
        return json.dumps(draw(json_values)).encode(), False
    return draw(raw_bodies), False


@examples(150)
@given(data=st.data(), content_type=st.one_of(st.sampled_from(JSON_TYPES), st.sampled_from(JSON_TYPES),
                                              st.sampled_from(["text/plain", "application/x-www-form-urlencoded",
                                                               "application/xml", ""]), st.none()),
       authorization=st.sampled_from(["right", "right", "right", "right", None, "Bearer wrong", "Basic x", "Bearer ",
                                      f"bearer {KEY}", f"Bearer  {KEY} "]))
def test_any_body_gets_201_or_a_plain_400_and_stores_nothing_unless_right(app, world, api_key, data, content_type,
                                                                         authorization):
    w = world("active")
    body, right = data.draw(bodies([w.h.nir, w.r.nir, w.t.nir, w.c.nir]))
    header = f"Bearer {KEY}" if authorization == "right" else authorization
    before = snapshot(app)
    response = post(app, body, content_type, header)
    after = snapshot(app)

    assert response.status_code < 500
    if header is None or header.split(" ", 1)[-1].strip() != KEY or header.split(" ")[0].lower() != "bearer":
        assert response.status_code == 401 and is_plain_error(response)
        assert_unchanged(before, after, "by a request without the key")
        return
    if right and content_type in JSON_TYPES:
        assert response.status_code == 201, response.get_json(silent=True)
        assert len(after["access_event"]) == len(before["access_event"]) + 1
        assert response.get_json()["decision"] in ("granted", "refused")
        return
    assert response.status_code in (400, 413), (response.status_code, response.get_data()[:200])
    assert is_plain_error(response), response.get_data()[:300]
    assert_unchanged(before, after, f"by the body {body[:200]!r}")


# --- the smallest bodies found that break the property above ------------------------------------------------

@examples(10)
@given(depth=st.integers(min_value=2_000, max_value=120_000), opener=st.sampled_from([b"[", b"{\"a\":"]))
@example(depth=100_000, opener=b"[").via("b'[' * 100000: json.loads raises RecursionError, not ValueError")
@example(depth=3_000, opener=b"[").via("under the size limit, nested past the parser's recursion limit")
def test_deeply_nested_json_is_a_plain_400_or_413_above_the_size_limit(app, world, api_key, depth, opener):
    world("active")
    before = snapshot(app)
    body = opener * depth
    response = post(app, body, "application/json", f"Bearer {KEY}")
    expected = 413 if len(body) > app.config["MAX_CONTENT_LENGTH"] else 400
    assert response.status_code == expected and is_plain_error(response)
    assert_unchanged(before, snapshot(app))


@examples(20)
@given(mode=st.one_of(st.lists(st.sampled_from(["normal", "samu"]), max_size=2),
                      st.dictionaries(st.text(max_size=5), st.integers(), max_size=2)))
@example(mode=["normal"]).via("found by reading the failures of test_access_events_import…: unhashable type")
def test_a_mode_that_is_a_list_or_an_object_is_a_field_error(app, world, api_key, tmp_path, mode):
    w = world("active")
    event = {"nir": w.h.nir, "occurred_at": "2026-11-20T10:15:00+01:00", "professional_name": "Dr Petit",
             "profession": "Médecin", "organisation": "Cabinet", "mode": mode, "section": "Ordonnances"}
    before = snapshot(app)
    response = post(app, json.dumps(event).encode(), "application/json", f"Bearer {KEY}")
    assert response.status_code == 400 and "mode" in response.get_json()["errors"]
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps(event) + "\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["access-events", "import", str(path)])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "line 1: mode:" in result.stderr
    assert_unchanged(before, snapshot(app))


@examples(15)
@given(event_id=st.text(max_size=20).map(lambda t: t + "\x00"))
@example(event_id="\x00").via("reading validation.py: event_id is any text of 1 to 100 characters")
def test_an_event_id_with_a_nul_byte_is_not_a_500(app, world, api_key, event_id):
    """SQLite stores it, PostgreSQL refuses NUL bytes in text: either a 201 or a plain 400, never a 500."""
    w = world("active")
    event = {"nir": w.h.nir, "occurred_at": "2026-11-20T10:15:00+01:00", "professional_name": "Dr Petit",
             "profession": "Médecin", "organisation": "Cabinet", "mode": "normal", "section": "Ordonnances",
             "event_id": event_id}
    before = snapshot(app)
    response = post(app, json.dumps(event).encode(), "application/json", f"Bearer {KEY}")
    assert response.status_code in (201, 400)
    if response.status_code == 400:
        assert is_plain_error(response)
        assert_unchanged(before, snapshot(app))
