"""The right hash for each secret (issue 16, docs/secrets.md): letter codes and Vitale serials as keyed hashes,
old argon2 rows still identify and are rewritten, a key rotated, the same work whatever is stored."""
from datetime import datetime

import pytest

from app import clock
from app.domain.errors import IdentificationFailed
from app.domain.identifiers import keypad_form
from app.models import Person, ProvisionalCode, db
from app.services import crypto, identity

NOW = datetime(2026, 11, 24, 9, 0)


@pytest.fixture(autouse=True)
def frozen():
    clock.freeze(NOW)


def stored(h) -> tuple[Person, ProvisionalCode]:
    db.session.expire_all()
    person = db.session.get(Person, h.person_id)
    code = db.session.scalars(db.select(ProvisionalCode).where(ProvisionalCode.person_id == h.person_id)
                              .order_by(ProvisionalCode.id.desc())).first()
    return person, code


def make_old(h) -> None:
    """The person's serial and code as an older release stored them: argon2id, no key."""
    person, code = stored(h)
    person.vitale_hash = crypto.hash_secret(h.vitale_serial)
    code.code_hash, code.keypad_hash = crypto.hash_secret(h.code), crypto.hash_secret(keypad_form(h.code))
    db.session.commit()


def identify(h, code=None, keypad=False, **kw):
    return identity.identify(h.nir, h.vitale_serial, h.birth_date, code or h.code, client="c", channel="web",
                             keypad=keypad, **kw)


def test_codes_and_serials_are_keyed_hashes_bound_to_their_person(ctx, enrol):
    h = enrol()
    person, code = stored(h)
    for value in (person.vitale_hash, code.code_hash, code.keypad_hash):
        assert value.startswith("hmac-sha256$") and len(value.split("$")[2]) == 64
        assert h.code not in value and h.vitale_serial not in value
    assert code.code_hash == crypto.keyed_hash("code", person.nir_lookup, h.code)
    assert code.code_hash != crypto.keyed_hash("code", "another person", h.code)   # bound to its person
    assert code.code_hash.split("$")[2] != code.keypad_hash.split("$")[2] != person.vitale_hash.split("$")[2]
    assert identify(h) == h.person_id


def test_a_hash_copied_to_another_row_opens_nothing(ctx, enrol):
    """Somebody who can write to the database but has not the key cannot plant a code they know."""
    mine, victim = enrol(), enrol()
    my_person, my_code = stored(mine)
    victim_person, victim_code = stored(victim)
    victim_code.code_hash, victim_person.vitale_hash = my_code.code_hash, my_person.vitale_hash
    db.session.commit()
    with pytest.raises(IdentificationFailed):
        identity.identify(victim.nir, mine.vitale_serial, victim.birth_date, mine.code, client="c", channel="web")


def test_without_the_key_a_stored_hash_checks_nothing(app, enrol):
    with app.app_context():
        h = enrol()
        person, code = stored(h)
        saved = app.config.get("SECRET_HASH_KEY")
        app.config["SECRET_HASH_KEY"] = "a key the thief guesses"
        try:
            assert not crypto.matches(code.code_hash, h.code, "code", person.nir_lookup)
            with pytest.raises(IdentificationFailed):
                identify(h)
        finally:
            app.config["SECRET_HASH_KEY"] = saved


def test_old_argon2_rows_identify_and_are_rewritten(ctx, enrol):
    h = enrol()
    make_old(h)
    person, code = stored(h)
    assert person.vitale_hash.startswith("$argon2id$") and code.code_hash.startswith("$argon2id$")
    assert identify(h) == h.person_id
    person, code = stored(h)
    assert person.vitale_hash == crypto.keyed_hash("vitale", person.nir_lookup, h.vitale_serial)
    assert code.code_hash == crypto.keyed_hash("code", person.nir_lookup, h.code)
    assert code.keypad_hash == crypto.keyed_hash("keypad", person.nir_lookup, keypad_form(h.code))
    assert code.used_at == NOW
    # the same code again is the used one, recognised under its new form
    from app.domain.errors import CodeSpent
    with pytest.raises(CodeSpent):
        identify(h)


def test_an_old_row_identified_by_keypad_keeps_the_written_form_it_cannot_know(ctx, enrol):
    h = enrol()
    make_old(h)
    assert identify(h, code=keypad_form(h.code), keypad=True) == h.person_id
    person, code = stored(h)
    assert person.vitale_hash.startswith("hmac-sha256$")
    assert code.keypad_hash == crypto.keyed_hash("keypad", person.nir_lookup, keypad_form(h.code))
    assert code.code_hash.startswith("$argon2id$")  # the written code was not typed: still the old form, still right
    assert crypto.verify_secret(code.code_hash, h.code, "code", person.nir_lookup)


def test_a_failed_identification_rewrites_nothing(ctx, enrol):
    h = enrol()
    make_old(h)
    with pytest.raises(IdentificationFailed):
        identify(h, code="K7XM2RC9F4HA")
    person, code = stored(h)
    assert person.vitale_hash.startswith("$argon2id$") and code.code_hash.startswith("$argon2id$")


def test_an_old_row_and_a_new_one_make_the_same_argon2_work(ctx, enrol, monkeypatch, app):
    """While old rows may remain, every keyed check makes one argon2 verification too: timing cannot tell an old
    row from a new one or from none. Once none is left (LEGACY_SECRET_HASHES=0), keyed checks make none."""
    old, new = enrol(), enrol()
    make_old(old)
    real, calls = crypto.hasher, []

    class Counting:
        def __init__(self, h):
            self.h = h

        def verify(self, *a):
            calls.append(1)
            return self.h.verify(*a)

        def hash(self, *a):
            return self.h.hash(*a)
    monkeypatch.setattr(crypto, "hasher", lambda: Counting(real()))
    work = []
    for h in (old, new):
        calls.clear()
        with pytest.raises(IdentificationFailed):
            identify(h, code="K7XM2RC9F4HA")
        work.append(len(calls))
    calls.clear()
    with pytest.raises(IdentificationFailed):
        identity.identify("213057505601783", "80000000000", new.birth_date, "K7XM2RC9F4HA", client="c",
                          channel="web")
    work.append(len(calls))
    assert work == [3, 3, 3]
    app.config["LEGACY_SECRET_HASHES"] = False
    try:
        calls.clear()
        with pytest.raises(IdentificationFailed):
            identify(new, code="K7XM2RC9F4HA")
        assert calls == []
    finally:
        app.config["LEGACY_SECRET_HASHES"] = True


def test_a_rotated_key_keeps_old_rows_working_and_moves_them_on(app, enrol):
    with app.app_context():
        app.config["SECRET_HASH_KEY"] = "key-2025"
        try:
            h = enrol()
            person, code = stored(h)
            old_id = crypto.key_id("key-2025")
            assert person.vitale_hash.startswith(f"hmac-sha256${old_id}$")
            app.config["SECRET_HASH_KEY"], app.config["SECRET_HASH_OLD_KEYS"] = "key-2026", ("key-2025",)
            assert crypto.needs_rehash(person.vitale_hash)
            assert identify(h) == h.person_id
            person, code = stored(h)
            new_id = crypto.key_id("key-2026")
            assert person.vitale_hash.startswith(f"hmac-sha256${new_id}$")
            assert code.code_hash.startswith(f"hmac-sha256${new_id}$")
            app.config["SECRET_HASH_OLD_KEYS"] = ()  # the old key dropped: nothing of it is needed any more
            assert crypto.verify_secret(person.vitale_hash, h.vitale_serial, "vitale", person.nir_lookup)
        finally:
            app.config["SECRET_HASH_KEY"], app.config["SECRET_HASH_OLD_KEYS"] = None, ()


def test_passphrases_stay_argon2(ctx):
    stored_hash = crypto.hash_secret("a passphrase of twelve or more")
    assert stored_hash.startswith("$argon2id$")
    assert crypto.verify_secret(stored_hash, "a passphrase of twelve or more")
    assert not crypto.verify_secret(None, "anything")
