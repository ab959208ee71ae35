"""QUALITY §1 and issue 13 §7: every page and the stylesheet go out compressed, gzip for a browser that offers only
gzip (older phones), brotli where it is offered; error pages too, which Flask-Compress leaves alone by itself."""
import gzip
import re

import brotli
import pytest


def stylesheet(app) -> str:
    return re.search(r'href="(/assets/[^"]+\.css)"', app.test_client().get("/").get_data(as_text=True)).group(1)


def decoded(response) -> bytes:
    body = response.get_data()
    return {"gzip": gzip.decompress, "br": brotli.decompress}[response.headers["Content-Encoding"]](body)


@pytest.mark.parametrize("offered,expected", [("gzip", "gzip"), ("br", "br"), ("gzip, deflate, br", "br")])
@pytest.mark.parametrize("what", ["home", "stylesheet", "not found", "wrong method", "expired form", "too large"])
def test_pages_the_stylesheet_and_error_pages_are_compressed(app, what, offered, expected):
    client = app.test_client()
    headers = {"Accept-Encoding": offered}
    response = {
        "home": lambda: client.get("/", headers=headers),
        "stylesheet": lambda: client.get(stylesheet(app), headers=headers),
        "not found": lambda: client.get("/no-such-page", headers=headers),
        "wrong method": lambda: client.put("/", headers=headers),
        "expired form": lambda: client.post("/identify", data={"nir": "1"}, headers=headers),
        "too large": lambda: client.post("/identify", data={"nir": "x" * 20000}, headers=headers),
    }[what]()
    status = {"not found": 404, "wrong method": 405, "expired form": 400, "too large": 413}.get(what, 200)
    assert response.status_code == status, what
    assert response.headers.get("Content-Encoding") == expected, (what, response.status_code, response.headers)
    assert "Accept-Encoding" in response.headers.get("Vary", "")
    body = decoded(response)
    assert body.startswith(b"<!doctype html>") or what == "stylesheet"


def test_an_error_page_offered_no_compression_is_sent_plain(app):
    response = app.test_client().get("/no-such-page", headers={"Accept-Encoding": "identity"})
    assert response.status_code == 404 and "Content-Encoding" not in response.headers
    assert response.get_data().startswith(b"<!doctype html>")
