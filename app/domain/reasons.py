"""Why a person may not do something now: one value per reason, the same for every channel.

Each channel says a reason in its own words, from the one table in app/reasons.py."""
from enum import StrEnum


class Reason(StrEnum):
    # the state of the health space
    WINDOW_CLOSED = "window_closed"          # too late to say no: closing is offered instead
    ALREADY_OPPOSED = "already_opposed"
    NOT_YET_CREATED = "not_yet_created"      # the window is open: nothing to close yet
    ALREADY_CLOSED = "already_closed"
    NOT_CLOSED = "not_closed"                # only a closed space can be reopened
    PURGED = "purged"
    EMERGENCY_OFF = "emergency_off"          # hidden documents: only while an emergency access is allowed
    NOT_POSSIBLE = "not_possible"            # any other rule
    # who acts
    MINOR_ALONE = "minor_alone"              # a legal representative must do it
    HELPER_LIMIT = "helper_limit"            # a trusted helper may not do it
    NO_MANDATE = "no_mandate"                # no current mandate for this person (says nothing more)
    LOCKED = "identification_locked"         # too many attempts: wait until a given time
    # naming a trusted helper
    HELPER_NOT_FOUND = "not_found"           # never says which of the NIR or the date was wrong
    HELPER_TRIES_USED = "locked"             # too many look-ups today
    ALREADY_HELPER = "already_helper"
    TOO_MANY_HELPERS = "too_many_helpers"
    HELPER_FULL = "helper_full"
    HELPER_SELF = "helper_self"
    UNTIL_PAST = "until_past"
    # a callback by an adviser
    PHONE_INVALID = "phone_invalid"          # not a phone number that can be read
    PHONE_NOT_FRENCH = "phone_not_french"    # advisers call back numbers in France, overseas included
    PHONE_NOT_CALLABLE = "phone_not_callable"  # a premium-rate, shared-cost or other service number
    SLOT_NOT_OFFERED = "slot_not_offered"    # the half-day is not (or no longer) one of those offered
    CALLBACKS_TODAY = "callbacks_today"      # this number already has the callbacks a day allows
    # the letter's code, when everything else given is right (said plainly, as Mon espace santé does)
    CODE_EXPIRED = "code_expired"            # the provisional code is past its date: SMS sign-in or a new code
    CODE_USED = "code_used"                  # the provisional code served already: SMS sign-in or a new code
