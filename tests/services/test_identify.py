"""identity.identify: the four things of the letter, single-use codes, back-off and lock, nothing in clear."""
from datetime import date, datetime, timedelta

import pytest
from stdnum.fr.nir import calc_check_digits

from app import clock
from app.domain.errors import CodeSpent, IdentificationFailed, IdentificationLocked
from app.domain.identifiers import keypad_form
from app.domain.reasons import Reason
from app.models import AuditEntry, ProvisionalCode, Throttle, db
from app.services import identity

NOW = datetime(2026, 11, 24, 9, 0)          # 10:00 in Paris
UNKNOWN_NIR = "213057505601783"              # valid, never enrolled


@pytest.fixture(autouse=True)
def frozen():
    clock.freeze(NOW)


def identify(h, client="client-1", channel="web", keypad=False, **overrides):
    a = {"nir": h.nir, "vitale_serial": h.vitale_serial, "birth_date": h.birth_date, "code": h.code, **overrides}
    return identity.identify(a["nir"], a["vitale_serial"], a["birth_date"], a["code"], client=client,
                             channel=channel, keypad=keypad)


def fail(h, client="client-1", **overrides):
    with pytest.raises(IdentificationFailed) as exc:
        identify(h, client=client, **{"code": "AAAAAAAAAAAA", **overrides})
    return exc.value


def at(delta: timedelta):
    clock.freeze(NOW + delta)


# --- success and single use -----------------------------------------------------------------------

def test_right_details_return_the_person_and_use_the_code(ctx, enrol):
    h = enrol()
    assert identify(h) == h.person_id
    code = db.session.scalar(db.select(ProvisionalCode).where(ProvisionalCode.person_id == h.person_id))
    assert code.used_at == NOW
    with pytest.raises(CodeSpent):
        identify(h)  # single use: a second time, it is said to be used


def test_two_people_each_with_their_own_code(ctx, enrol):
    a, b = enrol(), enrol()
    with pytest.raises(IdentificationFailed):
        identify(a, code=b.code)
    assert identify(b) == b.person_id
    assert identify(a) == a.person_id


# --- every failure looks the same -----------------------------------------------------------------

def test_each_wrong_detail_and_an_unknown_nir_fail_the_same_way(ctx, enrol):
    h = enrol()
    failures = [
        fail(h, code=h.code, vitale_serial="80999999999"),
        fail(h, code=h.code, birth_date=date(1950, 3, 26)),
        fail(h, code="K7XM2RC9F4HA"),
        fail(h, code=h.code, nir=UNKNOWN_NIR),
    ]
    assert {type(f) for f in failures} == {IdentificationFailed}
    assert {str(f) for f in failures} == {str(failures[0])}
    assert {f.code for f in failures} == {"identification_failed"}
    assert identify(h) == h.person_id  # none of this used the code


def test_an_expired_code_fails_and_the_last_valid_day_works(ctx, enrol, app):
    days = app.config["PROVISIONAL_CODE_VALID_DAYS"]
    late, on_time = enrol(days_ago=10), enrol(days_ago=10)
    expires_on = clock.today() - timedelta(days=10) + timedelta(days=days)
    clock.freeze(datetime.combine(expires_on, NOW.time()))
    assert identify(on_time) == on_time.person_id
    clock.freeze(datetime.combine(expires_on + timedelta(days=1), NOW.time()))
    with pytest.raises(CodeSpent) as exc:
        identify(late)
    assert exc.value.reason == Reason.CODE_EXPIRED


def test_keypad_form_only_with_keypad_true(ctx, enrol):
    h = enrol()
    typed = keypad_form(h.code)
    assert typed.isdigit()
    fail(h, code=typed)                  # digits in the written-code field
    fail(h, code=h.code, keypad=True)    # letters on the phone
    assert identify(h, code=typed, keypad=True) == h.person_id


# --- back-off and lock ----------------------------------------------------------------------------

def test_after_five_failures_there_is_a_back_off_even_with_the_right_details(ctx, enrol):
    h = enrol()
    for i in range(5):
        at(timedelta(seconds=i))
        fail(h)
    at(timedelta(seconds=10))
    with pytest.raises(IdentificationLocked) as exc:
        identify(h)
    assert exc.value.until == NOW + timedelta(seconds=4) + timedelta(minutes=1)
    at(timedelta(seconds=4, minutes=1))
    assert identify(h) == h.person_id


def test_four_failures_do_not_hold_anyone_back(ctx, enrol):
    h = enrol()
    for _ in range(4):
        fail(h)
    assert identify(h) == h.person_id


def test_back_off_grows_with_each_failure(ctx, enrol):
    h = enrol()
    for i in range(6):
        at(timedelta(hours=i))
        fail(h)
    at(timedelta(hours=5, minutes=1, seconds=59))
    with pytest.raises(IdentificationLocked) as exc:
        fail(h)
    assert exc.value.until == NOW + timedelta(hours=5, minutes=2)


def _ten_failures(h, client="client-1", **overrides):
    for i in range(10):
        at(timedelta(hours=i))
        fail(h, client=client, **overrides)
    return NOW + timedelta(hours=9)


def test_at_ten_failures_the_nir_is_locked_for_lock_hours_even_with_the_right_details(ctx, enrol, app):
    h = enrol(days_ago=1)
    last = _ten_failures(h)
    lock = timedelta(hours=app.config["LOCK_HOURS"])
    clock.freeze(last + lock - timedelta(minutes=1))
    with pytest.raises(IdentificationLocked) as exc:
        identify(h, client="another-client")  # another device does not help
    assert exc.value.until == last + lock
    clock.freeze(last + lock)
    assert identify(h) == h.person_id


def test_an_unknown_nir_locks_exactly_like_a_known_one(ctx, enrol, app):
    h = enrol(days_ago=1)
    lock = timedelta(hours=app.config["LOCK_HOURS"])
    known_last = _ten_failures(h, client="c-known")
    ghost_last = _ten_failures(h, client="c-ghost", nir=UNKNOWN_NIR)
    for nir, last in ((h.nir, known_last), (UNKNOWN_NIR, ghost_last)):
        clock.freeze(NOW + timedelta(hours=9, minutes=30))
        with pytest.raises(IdentificationLocked) as exc:
            identify(h, client="c-third", nir=nir)
        assert exc.value.until == last + lock


def test_a_success_resets_the_count(ctx, enrol):
    h = enrol()
    for _ in range(4):
        fail(h)
    assert identify(h) == h.person_id
    # Had the count for this NIR been kept, the 2nd of these would meet a back-off (another device, so that
    # only the NIR's count is at stake).
    for _ in range(4):
        fail(h, client="client-2")


# --- per client -----------------------------------------------------------------------------------

def test_a_client_trying_many_nirs_is_locked_for_the_hour(ctx, enrol, app, monkeypatch):
    monkeypatch.setitem(app.config, "IP_FAILURES_PER_HOUR", 3)
    h = enrol()
    others = ["240037511200567", "189071305512376", "274112A00401768"]
    for i, nir in enumerate(others):
        at(timedelta(minutes=i))
        fail(h, client="scanner", nir=nir)
    at(timedelta(minutes=10))
    with pytest.raises(IdentificationLocked) as exc:
        identify(h, client="scanner")
    assert exc.value.until == NOW + timedelta(hours=1)
    assert identify(h, client="someone-else") == h.person_id


def test_the_client_lock_ends_after_the_hour(ctx, enrol, app, monkeypatch):
    monkeypatch.setitem(app.config, "IP_FAILURES_PER_HOUR", 3)
    h = enrol()
    for i, nir in enumerate(["240037511200567", "189071305512376", "274112A00401768"]):
        fail(h, client="scanner", nir=nir)
    at(timedelta(hours=1))
    assert identify(h, client="scanner") == h.person_id


def test_a_shared_client_is_not_held_back_before_its_hourly_limit(ctx, enrol, app):
    """Five people behind one address (a carrier's NAT, a library, a social worker's office, withheld numbers
    on the phone) each mistype once: far below IP_FAILURES_PER_HOUR (50), the sixth person must get in."""
    assert app.config["IP_FAILURES_PER_HOUR"] > 6
    h = enrol()
    strangers = [body + calc_check_digits(body) for body in
                 ("1850775123451", "2920169001002", "1670313055123", "2450833012044", "1991275111222")]
    assert h.nir not in strangers
    for i, nir in enumerate(strangers):
        at(timedelta(minutes=i))
        fail(h, client="shared-nat", nir=nir)
    at(timedelta(minutes=4, seconds=30))
    assert identify(h, client="shared-nat") == h.person_id


# --- the audit log ----------------------------------------------------------------------------------

def test_attempts_are_audited_without_any_identifier_in_clear(ctx, enrol):
    h = enrol()
    fail(h)
    fail(h, nir=UNKNOWN_NIR)
    identify(h, channel="voice")
    entries = db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.id)).all()
    actions = [(e.action, e.channel, e.subject) for e in entries if e.action.startswith("identification")]
    subject = f"person:{h.person_id}"
    assert actions == [("identification.failed", "web", subject), ("identification.failed", "web", None),
                       ("identification.succeeded", "voice", subject)]
    secrets = [h.nir, h.nir[:13], UNKNOWN_NIR, UNKNOWN_NIR[:13], h.vitale_serial, h.code, keypad_form(h.code),
               h.birth_date.isoformat(), h.birth_date.strftime("%d/%m/%Y")]
    for e in entries:
        text = " ".join(str(x) for x in (e.actor, e.subject, e.action, e.channel, e.details))
        for secret in secrets:
            assert secret not in text, (secret, e.action)


# --- a right person with a used or expired letter code is told so ----------------------------------

def spent(h, **overrides):
    with pytest.raises(CodeSpent) as exc:
        identify(h, **overrides)
    return exc.value


def nir_failures(h) -> int:
    row = db.session.get(Throttle, identity._keys(h.nir, "client-1")[0])
    return row.failures if row else 0


def test_a_used_code_is_named_and_the_sms_sign_in_and_a_new_code_are_offered(ctx, enrol):
    h = enrol()
    assert identify(h) == h.person_id
    refusal = spent(h)
    assert refusal.reason == Reason.CODE_USED
    assert refusal.has_mobile and refusal.may_renew and refusal.opposed_on is None
    assert spent(h, code=keypad_form(h.code), keypad=True).reason == Reason.CODE_USED


def test_an_expired_letter_code_is_named(ctx, enrol, app):
    h = enrol(days_ago=app.config["PROVISIONAL_CODE_VALID_DAYS"] + 1, renew=False, phone=None)
    refusal = spent(h)
    assert refusal.reason == Reason.CODE_EXPIRED
    assert not refusal.has_mobile and refusal.may_renew


def test_a_spent_code_does_not_count_towards_the_lockout(ctx, enrol, app):
    h = enrol()
    identify(h)
    for i in range(app.config["LOCK_AFTER_FAILURES"] + 2):
        at(timedelta(seconds=i))
        spent(h)
    assert nir_failures(h) == 0
    # Neither does it hold the person's next, right, way in: a new code works at once.
    code = identity._issue_code(identity.person(h.person_id), clock.today())
    db.session.commit()
    assert identify(h, code=code) == h.person_id


def test_a_spent_code_is_no_oracle_any_other_code_fails_and_counts(ctx, enrol):
    h = enrol()
    identify(h)
    failures = [fail(h, code="K7XM2RC9F4HA"),                          # right person, a code never theirs
                fail(h, vitale_serial="80999999999"),                   # the spent code, a wrong serial
                fail(h, birth_date=date(1950, 3, 26)),                  # the spent code, a wrong date
                fail(h, nir=UNKNOWN_NIR)]                               # the spent code, nobody's NIR
    assert {type(f) for f in failures} == {IdentificationFailed}
    assert nir_failures(h) == 3


def test_a_code_replaced_while_valid_is_a_plain_failure(ctx, enrol):
    """Voided by a newer code before it served or expired: the newer code is the one in hand."""
    h = enrol()
    identity._issue_code(identity.person(h.person_id), clock.today())
    db.session.commit()
    fail(h, code=h.code)


def test_a_person_who_said_no_is_told_the_day_and_reference(ctx, enrol):
    from app.services import Actor, commands
    h = enrol()
    identify(h)
    receipt = commands.dispatch(commands.Oppose(), Actor(h.person_id, "web"), h.person_id, "k-oppose")
    refusal = spent(h)
    assert refusal.opposed_on == NOW and refusal.opposed_reference == receipt.reference
    assert not refusal.may_renew  # nothing more to do: no new code is sent for a space that will not exist


def test_the_same_argon2_work_whatever_matches(ctx, enrol, monkeypatch):
    h, other = enrol(), enrol()
    identify(other)
    calls = []
    real = identity.verify_secret
    monkeypatch.setattr(identity, "verify_secret",
                        lambda stored, given, *kind: calls.append(1) or real(stored, given, *kind))
    work = []
    for attempt in (lambda: identify(h),                                         # right
                    lambda: spent(other),                                        # right but spent
                    lambda: fail(other, code="K7XM2RC9F4HA"),                    # right person, wrong code
                    lambda: fail(h, code="K7XM2RC9F4HA"),                        # wrong code, valid one held
                    lambda: fail(h, nir=UNKNOWN_NIR)):                           # nobody
        calls.clear()
        attempt()
        work.append(len(calls))
    assert work == [3] * 5


def test_a_spent_code_is_audited_without_any_identifier_in_clear(ctx, enrol):
    h = enrol()
    identify(h)
    spent(h)
    entry = db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (entry.action, entry.subject) == ("identification.code_spent", f"person:{h.person_id}")
    assert "code_used" in entry.details
    text = " ".join(str(x) for x in (entry.actor, entry.subject, entry.details))
    assert h.code not in text and h.nir not in text


def test_the_sex_comes_from_the_nir_first_digit():
    assert identity.sex_of("240037511200567") == "f"
    assert identity.sex_of("189071305512376") == "m"
    assert identity.sex_of("") is None and identity.sex_of(None) is None
