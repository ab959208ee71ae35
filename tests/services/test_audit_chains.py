"""The audit's chains per person and its signed roots: what a tester with write access to the database tried,
each caught; the tree hash against RFC 6962's definition; keys from the environment; paged verification."""
import base64
import hashlib
import json
import os
import threading
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app import audit
from app.models import AuditChain, AuditEntry, AuditRoot, db

ON_POSTGRES = "postgresql" in (os.environ.get("DATABASE_URL") or "")


@pytest.fixture(autouse=True)
def empty_log(ctx):
    for model in (AuditEntry, AuditChain, AuditRoot):
        db.session.execute(db.delete(model))
    db.session.commit()
    yield
    audit._private_key.cache_clear()


def write(person: int, n: int, action: str = "space.viewed") -> None:
    for i in range(n):
        audit.append(f"person:{person}", f"person:{person}", action, "web", n=i)
        db.session.commit()


def chain(key: str) -> list[AuditEntry]:
    return db.session.scalars(db.select(AuditEntry).where(AuditEntry.chain == key).order_by(AuditEntry.seq)).all()


def sql(text: str, **params) -> None:
    db.session.execute(db.text(text), params)
    db.session.commit()
    db.session.expire_all()


def rewrite_from(key: str, seq: int, details: str) -> None:
    """The tester's attack: change entry `seq`, recompute its hash and every later one, and the head."""
    rows = chain(key)
    prev = rows[seq - 2].hash if seq > 1 else audit.GENESIS
    for row in rows[seq - 1:]:
        text = details if row.seq == seq else row.details
        digest = audit._digest(key, row.seq, prev, row.at, row.actor, row.subject, row.action, row.channel, text)
        db.session.execute(db.update(AuditEntry).where(AuditEntry.id == row.id)
                           .values(details=text, prev_hash=prev, hash=digest))
        prev = digest
    db.session.execute(db.update(AuditChain).where(AuditChain.key == key).values(last_hash=prev))
    db.session.commit()
    db.session.expire_all()


@pytest.fixture
def sealed_log():
    """Three people's chains (60, 5 and 1 entries) and an anonymous failure, sealed once."""
    write(1, 60)
    write(2, 5)
    write(3, 1)
    audit.append("anonymous", None, "identification.failed", "web")
    db.session.commit()
    root = audit.seal()
    assert audit.check().ok
    return root


# --- the chains ------------------------------------------------------------------------------------------

def test_each_person_has_a_chain_of_their_own_and_the_nobody_entries_go_to_shards(sealed_log):
    assert [e.seq for e in chain("person:1")] == list(range(1, 61))
    assert len(chain("person:2")) == 5
    anonymous = db.session.scalars(db.select(AuditChain.key).where(AuditChain.key.like("anonymous/%"))).all()
    assert len(anonymous) == 1 and 0 <= int(anonymous[0].split("/")[1]) < audit.SHARDS
    report = audit.check()
    assert (report.ok, report.entries, report.chains, report.roots) == (True, 67, 4, 1)


def test_append_many_writes_each_entry_in_its_own_chain_after_what_is_there(sealed_log):
    audit.append_many([("system", "person:2", "reminder.sent", "job", {"days": 14}),
                       ("system", "person:9", "reminder.sent", "job", {"days": 14}),
                       ("system", "person:2", "reminder.sent", "job", {"days": 3})])
    db.session.commit()
    assert [e.seq for e in chain("person:2")] == [1, 2, 3, 4, 5, 6, 7]
    assert [json.loads(e.details)["days"] for e in chain("person:2")[-2:]] == [14, 3]
    assert [e.seq for e in chain("person:9")] == [1]
    assert audit.check().ok


def test_a_rewritten_entry_with_every_later_hash_and_the_head_recomputed_is_caught_by_the_signed_root(sealed_log):
    rewrite_from("person:1", 50, '{"forged":true}')
    report = audit.check()  # every link holds: only the signed root can tell
    assert not report.ok and "last signed root" in report.problem


def test_the_last_six_entries_cut_and_the_head_reset_is_caught(sealed_log):
    rows = chain("person:1")
    sql("DELETE FROM audit_entry WHERE chain = 'person:1' AND seq > 54")
    sql("UPDATE audit_chain SET length = 54, last_hash = :h WHERE key = 'person:1'", h=rows[53].hash)
    report = audit.check()
    assert not report.ok and "shorter than when it was sealed" in report.problem
    # and the seal's record of the chain moved back too: the signed root still does not match
    sql("UPDATE audit_chain SET sealed_length = 54, sealed_hash = :h WHERE key = 'person:1'", h=rows[53].hash)
    report = audit.check()
    assert not report.ok and "last signed root" in report.problem


def test_a_changed_entry_is_caught_at_that_entry(sealed_log):
    victim = chain("person:2")[2]
    sql("UPDATE audit_entry SET details = '{}' WHERE id = :id", id=victim.id)
    report = audit.check()
    assert (report.ok, report.broken) == (False, victim.id)
    assert "person:2: entry 3" in report.problem


def test_a_removed_entry_is_caught(sealed_log):
    victim = chain("person:1")[10]
    sql("DELETE FROM audit_entry WHERE id = :id", id=victim.id)
    report = audit.check()
    assert not report.ok and "entry 11 is missing or out of order" in report.problem


def test_two_entries_swapped_are_caught(sealed_log):
    first, second = chain("person:2")[1:3]
    sql("UPDATE audit_entry SET seq = -1 WHERE id = :id", id=first.id)
    sql("UPDATE audit_entry SET seq = 2 WHERE id = :id", id=second.id)
    sql("UPDATE audit_entry SET seq = 3 WHERE id = :id", id=first.id)
    assert not audit.check().ok


def test_an_entry_moved_to_another_chain_is_caught(sealed_log):
    victim = chain("person:3")[0]
    sql("UPDATE audit_entry SET chain = 'person:2', seq = 6 WHERE id = :id", id=victim.id)
    assert not audit.check().ok


def test_a_changed_root_is_caught(sealed_log):
    sql("UPDATE audit_root SET root_hash = :h WHERE id = :id", h="f" * 64, id=sealed_log.id)
    report = audit.check()
    assert not report.ok and "signature does not match" in report.problem


def test_a_removed_root_is_caught(sealed_log):
    write(1, 2)
    audit.seal()
    write(2, 1)
    third = audit.seal()
    sql("DELETE FROM audit_root WHERE id = :id", id=third.id)  # the latest: the data no longer gives it
    assert not audit.check().ok
    sql("DELETE FROM audit_root")  # every root: the chains say they were sealed
    report = audit.check()
    assert not report.ok and "no signed root" in report.problem


def test_a_root_removed_from_the_middle_is_caught(sealed_log):
    write(1, 2)
    middle = audit.seal()
    write(2, 1)
    audit.seal()
    sql("DELETE FROM audit_root WHERE id = :id", id=middle.id)
    report = audit.check()
    assert not report.ok and "does not follow the root before it" in report.problem


def test_a_root_signed_with_another_key_is_caught(app, sealed_log):
    other = Ed25519PrivateKey.generate()
    root = db.session.get(AuditRoot, sealed_log.id)
    root.signature = other.sign(audit._message(root)).hex()
    db.session.commit()
    assert "signature does not match" in audit.check().problem


def test_entries_after_the_last_seal_are_checked_by_their_links_then_sealed_next_time(sealed_log):
    write(2, 3)
    write(4, 2)
    assert audit.check().ok
    root = audit.seal()
    assert (root.chains, root.entries, root.prev_root) == (5, 72, sealed_log.root_hash)
    assert audit.check().ok


# --- the tree hash ---------------------------------------------------------------------------------------

def rfc6962(leaves: list[bytes]) -> bytes:
    """MTH as RFC 6962 §2.1 defines it, recursively: the split at the largest power of two below n."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + rfc6962(leaves[:k]) + rfc6962(leaves[k:])).digest()


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 17, 31, 100])
def test_the_streamed_tree_hash_is_rfc_6962s(n):
    leaves = [audit.leaf_hash(f"person:{i}", i + 1, hashlib.sha256(str(i).encode()).hexdigest()) for i in range(n)]
    tree = audit.TreeHash()
    for leaf in leaves:
        tree.add(leaf)
    assert tree.root() == rfc6962(leaves).hex()
    assert len(tree.stack) == bin(n).count("1")  # O(log n) memory


def test_a_leaf_is_hashed_apart_from_a_node():
    assert audit.leaf_hash("person:1", 1, "0" * 64)[:1] != b""
    tree = audit.TreeHash()
    tree.add(b"a" * 32)
    assert tree.root() == (b"a" * 32).hex()


# --- keys --------------------------------------------------------------------------------------------------

def test_the_key_comes_from_the_environment_and_a_verifier_needs_only_the_public_key(app, sealed_log):
    private = Ed25519PrivateKey.generate()
    raw = private.private_bytes_raw()
    public = base64.b64encode(private.public_key().public_bytes_raw()).decode()
    app.config["AUDIT_SIGNING_KEY"] = base64.b64encode(raw).decode()
    try:
        root = audit.seal()
        assert root.key_id == audit.key_id(private.public_key())
        assert audit.public_key_text() == public
        # the old root was signed with the demo key: a verifier with the new public key alone refuses it…
        app.config["AUDIT_PUBLIC_KEYS"] = public
        assert "key not known here" in audit.check().problem
        # …and accepts it with the retired key listed beside the current one
        app.config["AUDIT_SIGNING_KEY"] = None
        retired = audit.public_key_text()
        app.config["AUDIT_PUBLIC_KEYS"] = f"{public},{retired}"
        app.config["AUDIT_SIGNING_KEY"] = "not used to verify"
        assert audit.check().ok
    finally:
        app.config["AUDIT_SIGNING_KEY"] = None
        app.config["AUDIT_PUBLIC_KEYS"] = ""


def test_a_key_file_in_pem_form(app, tmp_path):
    from cryptography.hazmat.primitives import serialization
    private = Ed25519PrivateKey.generate()
    path = tmp_path / "audit.pem"
    path.write_bytes(private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    app.config["AUDIT_SIGNING_KEY_FILE"] = str(path)
    try:
        write(1, 1)
        assert audit.seal().key_id == audit.key_id(private.public_key())
        assert audit.check().ok
    finally:
        app.config["AUDIT_SIGNING_KEY_FILE"] = None


# --- bounded memory ------------------------------------------------------------------------------------------

def test_verification_reads_a_page_at_a_time_across_chain_boundaries(monkeypatch):
    rows = [("system", f"person:{i % 37}", "reminder.sent", "job", {"i": i}) for i in range(400)]
    audit.append_many(rows)
    db.session.commit()
    audit.seal()
    monkeypatch.setattr(audit, "PAGE", 7)  # pages that end in the middle of chains and between them
    report = audit.check()
    assert (report.ok, report.entries, report.chains) == (True, 400, 37)
    victim = chain("person:36")[-1]
    sql("UPDATE audit_entry SET action = 'space.reopened' WHERE id = :id", id=victim.id)
    assert audit.check().broken == victim.id


# --- concurrency (PostgreSQL: SQLite has one writer at a time) ----------------------------------------------

@pytest.mark.skipif(not ON_POSTGRES, reason="row locks need PostgreSQL (make test-postgres)")
def test_a_write_about_b_does_not_wait_for_an_open_write_about_a_and_two_writes_about_a_stay_ordered(app):
    holding, release = threading.Event(), threading.Event()
    done: dict[str, float] = {}

    def first_a():
        with app.app_context():
            audit.append("person:1", "person:1", "first", "web")
            db.session.flush()
            holding.set()
            release.wait(10)
            db.session.commit()
            done["first_a"] = time.monotonic()

    def write_as(name, person):
        with app.app_context():
            audit.append(f"person:{person}", f"person:{person}", name, "web")
            db.session.commit()
            done[name] = time.monotonic()

    t1 = threading.Thread(target=first_a)
    t1.start()
    assert holding.wait(10)
    b = threading.Thread(target=write_as, args=("b", 2))
    b.start()
    b.join(5)
    assert "b" in done, "a write about B waited for the open transaction about A"
    second = threading.Thread(target=write_as, args=("second_a", 1))
    second.start()
    time.sleep(0.5)
    assert "second_a" not in done, "a second write about A did not wait for the first"
    release.set()
    t1.join(10)
    second.join(10)
    assert done["first_a"] <= done["second_a"]
    db.session.expire_all()
    assert [(e.seq, e.action) for e in chain("person:1")] == [(1, "first"), (2, "second_a")]
    assert audit.check().ok


@pytest.mark.skipif(not ON_POSTGRES, reason="row locks need PostgreSQL (make test-postgres)")
def test_a_seal_during_open_writes_neither_waits_nor_blocks_them(app):
    write(1, 3)
    holding, release = threading.Event(), threading.Event()

    def open_write():
        with app.app_context():
            audit.append("person:1", "person:1", "in flight", "web")
            db.session.flush()
            holding.set()
            release.wait(10)
            db.session.commit()

    t = threading.Thread(target=open_write)
    t.start()
    assert holding.wait(10)
    write(2, 2)
    start = time.monotonic()
    root = audit.seal()  # person:1 is locked: sealed where it stood (nothing yet), person:2 sealed
    assert time.monotonic() - start < 5
    release.set()
    t.join(10)
    assert root.chains == 1 and root.entries == 2
    assert audit.check().ok
    assert audit.seal().entries == 6 and audit.check().ok
