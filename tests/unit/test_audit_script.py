"""The offline vulnerability answers of scripts/audit.py: exact at the latest release, a refusal before it."""
import importlib.util
from pathlib import Path

spec = importlib.util.spec_from_file_location("audit", Path(__file__).parents[2] / "scripts" / "audit.py")
audit = importlib.util.module_from_spec(spec)
spec.loader.exec_module(audit)

PROJECT = {"info": {"version": "2.0"}, "vulnerabilities": [
    {"id": "PYSEC-1", "aliases": ["CVE-1"], "summary": "bad", "fixed_in": ["2.1"], "withdrawn": None}]}


def test_the_latest_release_gets_its_vulnerabilities_in_osv_form(monkeypatch):
    monkeypatch.setattr(audit, "project_json", lambda name: PROJECT)
    status, body = audit.osv_answer("demo", "2.0")
    assert status == 200
    (vuln,) = body["vulns"]
    assert vuln["id"] == "PYSEC-1" and vuln["aliases"] == ["CVE-1"]
    assert vuln["affected"][0]["ranges"][0]["events"][-1] == {"fixed": "2.1"}


def test_an_older_release_cannot_be_audited_offline_and_fails(monkeypatch):
    monkeypatch.setattr(audit, "project_json", lambda name: PROJECT)
    status, body = audit.osv_answer("demo", "1.9")
    assert status == 409 and "not the latest release" in body["error"]


def test_no_vulnerabilities_key_means_none(monkeypatch):
    monkeypatch.setattr(audit, "project_json", lambda name: {"info": {"version": "1"}})
    assert audit.osv_answer("demo", "1") == (200, {"vulns": []})
