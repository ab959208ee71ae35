"""Production settings: argon2id at OWASP's minimum or above, and the domain's numbers at SPEC §2's defaults.

The test suite lowers argon2's cost (tests/conftest.py); these are the values the app runs with.
"""
import os
import runpy
from pathlib import Path

import pytest

import app.config

SOURCE = Path(app.config.__file__)

ENV_NAMES = ["ARGON2_TIME_COST", "ARGON2_MEMORY_KIB", "ARGON2_PARALLELISM", "OPPOSITION_WINDOW_DAYS",
             "PROVISIONAL_CODE_VALID_DAYS", "ARCHIVE_YEARS", "DELETION_MAX_MONTHS", "BACKOFF_AFTER_FAILURES",
             "LOCK_AFTER_FAILURES", "LOCK_HOURS", "OTP_VALID_MINUTES", "OTP_MAX_TRIES", "IP_FAILURES_PER_HOUR",
             "HISTORY_PAGE_SIZE", "MASKED_IN_EMERGENCY_DEFAULT", "REMINDER_DAYS", "OPENING_HOURS", "AGENT_NUMBER",
             "AGENT_RING_SECONDS"]


def fresh_config(**env):
    """app/config.py's Config as built from an environment that sets none of these names (but `env`),
    run in its own namespace so the imported module is left as it is."""
    saved = {k: os.environ.pop(k) for k in ENV_NAMES if k in os.environ}
    os.environ.update(env)
    try:
        return runpy.run_path(str(SOURCE))["Config"]
    finally:
        for k in env:
            os.environ.pop(k, None)
        os.environ.update(saved)


@pytest.fixture(scope="module")
def Config():
    return fresh_config()


def test_argon2_is_at_least_owasp_minimum(Config):
    assert Config.ARGON2_MEMORY_KIB >= 19 * 1024 == 19456
    assert Config.ARGON2_TIME_COST >= 2
    assert Config.ARGON2_PARALLELISM == 1


def test_domain_numbers_default_to_the_spec(Config):
    assert Config.OPPOSITION_WINDOW_DAYS == 42
    assert Config.PROVISIONAL_CODE_VALID_DAYS == 42
    assert Config.ARCHIVE_YEARS == 10
    assert Config.DELETION_MAX_MONTHS == 3
    assert Config.BACKOFF_AFTER_FAILURES == 5
    assert Config.LOCK_AFTER_FAILURES == 10
    assert Config.MASKED_IN_EMERGENCY_DEFAULT is False
    assert Config.REMINDER_DAYS == (14, 3)


def test_a_person_to_talk_to_follows_the_spec(Config):
    assert Config.OPENING_HOURS == "Mo-Fr 08:30-17:30; PH off"
    assert (Config.AGENT_NUMBER, Config.AGENT_RING_SECONDS) == ("", 25)
    custom = fresh_config(OPENING_HOURS="Mo-Sa 09:00-12:00", AGENT_NUMBER="queue:advisers", AGENT_RING_SECONDS="20")
    assert (custom.OPENING_HOURS, custom.AGENT_NUMBER, custom.AGENT_RING_SECONDS) == \
        ("Mo-Sa 09:00-12:00", "queue:advisers", 20)


def test_one_time_codes_follow_asvs(Config):
    assert Config.OTP_VALID_MINUTES == 10
    assert Config.OTP_MAX_TRIES == 5
    assert (Config.OTP_PER_15_MINUTES, Config.OTP_PER_DAY) == (3, 10)


def test_lock_is_bounded_and_guessing_is_limited(Config):
    # NIST SP 800-63B: never more than 100 failures before a lock.
    assert Config.BACKOFF_AFTER_FAILURES < Config.LOCK_AFTER_FAILURES <= 100
    assert Config.LOCK_HOURS >= 1
    assert 0 < Config.IP_FAILURES_PER_HOUR


def test_settings_are_read_from_the_environment():
    assert fresh_config(OPPOSITION_WINDOW_DAYS="30").OPPOSITION_WINDOW_DAYS == 30
    assert fresh_config(REMINDER_DAYS="10,2").REMINDER_DAYS == (10, 2)

