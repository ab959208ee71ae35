"""The call script of the 34 22 line, as a table: each step says something, expects an answer, and routes it.

Read STEPS top to bottom like an agent's script. A route's target is another step, a switch step of SWITCHES,
or `do:<name>`, an action of ivr/actions.py that calls one service and names the next step. A switch step says
nothing and waits for nothing: it tests the call (the caller, the goal chosen, the space) and goes on, as a
nyaruka/goflow router does: its cases in order, then `other`; `no_response` when there is nothing to test.
"""
from flask_babel import gettext as _

from . import actions
from .engine import DIAL, END, KEY, NUMBER, WAIT, YESNO, Step, Switch, check, runs
from .prompts import (
    MENU_WORDS,
    READY_WORDS,
    YES_NO_WORDS,
    menu_words,
    say_birth,
    say_block,
    say_callback,
    say_callback_number,
    say_callback_phone,
    say_check_reference,
    say_close,
    say_close_confirm,
    say_code,
    say_emergency,
    say_emergency_confirm,
    say_fix,
    say_for_nir,
    say_goodbye,
    say_heard,
    say_help_menu,
    say_helper_birth,
    say_helper_confirm,
    say_helper_nir,
    say_helper_pick,
    say_helper_remove,
    say_helpers,
    say_history,
    say_history_act,
    say_history_pick,
    say_menu,
    say_nir,
    say_notices,
    say_oppose,
    say_receipt,
    say_reopen,
    say_report,
    say_serial,
    say_silent_goodbye,
    say_sms_code,
    say_stuck,
    say_transfer,
    say_wait,
    words,
)


def confirm(say, yes: str, no: str = "do:cancel") -> Step:
    """A yes/no step: 1 confirms, 9 cancels (2, the old «no», is understood too)."""
    return Step(say, YESNO, {"1": yes, "9": no, "2": no}, words=YES_NO_WORDS)


def number(say, accept: str, spoken: str | None = None, identifying: bool = False, back: str = "menu") -> Step:
    return Step(say, NUMBER, accept=accept, spoken=spoken, identifying=identifying, back=back)


STEPS: dict[str, Step] = {
    # The greeting is said before the main menu's first prompt, with 9 for the other language (actions).
    "menu": Step(say_menu, KEY, {"1": "do:goal_change", "2": "do:goal_for_other", "3": "do:goal_history",
                                 "4": "do:goal_emergency", "0": "help_menu", "9": "do:switch_language"},
                 words=menu_words),
    "help_menu": Step(say_help_menu, KEY, {"0": "do:agent", "1": "check_reference", "2": "do:goal_helpers",
                                           "3": "do:goal_notices", "9": "menu"},
                      words=words(**{"1": lambda: _("check, reference, message, letter, genuine"),
                                     "2": lambda: _("helper, trusted, aidant"),
                                     "3": lambda: _("alerts, notices, messages at each access"), "9": MENU_WORDS})),
    "for_nir": number(say_for_nir, "accept_for_nir", spoken="nir"),
    "helpers": Step(say_helpers, KEY, {"1": "do:helper_add", "2": "do:helper_remove_start", "9": "menu"},
                    words=words(**{"1": lambda: _("name, add, new"), "2": lambda: _("remove, end, delete"),
                                   "9": MENU_WORDS})),
    "helper_nir": number(say_helper_nir, "accept_helper_nir", spoken="nir", back="helpers"),
    "helper_birth": number(say_helper_birth, "accept_helper_birth", spoken="birth", back="helper_nir"),
    "helper_confirm": confirm(say_helper_confirm, "do:name_helper"),
    "helper_pick": number(say_helper_pick, "accept_helper_pick", back="helpers"),
    "helper_remove": confirm(say_helper_remove, "do:revoke_helper"),
    "check_reference": number(say_check_reference, "accept_reference", spoken="digits", back="help_menu"),
    # Identification: each part accepted is kept for the call; silence offers a wait, never a goodbye.
    "nir": number(say_nir, "accept_nir", spoken="nir", identifying=True),
    "serial": number(say_serial, "accept_serial", spoken="digits", identifying=True, back="nir"),
    "birth": number(say_birth, "accept_birth", spoken="birth", identifying=True, back="serial"),
    "code": number(say_code, "accept_code", spoken="code", identifying=True, back="birth"),
    "sms_code": number(say_sms_code, "accept_sms_code", spoken="digits", identifying=True),
    "heard": Step(say_heard, YESNO, {"1": "do:confirm_heard", "9": "do:hear_again", "2": "do:hear_again"},
                  words=YES_NO_WORDS, identifying=True),
    "fix": Step(say_fix, KEY, {"1": "do:fix_nir", "2": "do:fix_serial", "3": "do:fix_birth", "4": "do:fix_code",
                               "9": "do:forget_identity"},
                words=words(**{"1": lambda: _("number, social security"), "2": lambda: _("card, vitale, serial"),
                               "3": lambda: _("date, birth, born"), "4": lambda: _("code, letter")}),
                identifying=True),
    "wait": Step(say_wait, WAIT, {"*": "do:resume"}, words=words(**{"*": READY_WORDS})),
    "stuck": Step(say_stuck, KEY, {"1": "do:wait_again", "2": "do:send_what_to_have", "3": "do:agent",
                                   "9": "do:forget_identity"},
                  words=words(**{"1": lambda: _("wait, later, moment"), "2": lambda: _("sms, message, text"),
                                 "3": lambda: _("adviser, agent, person")})),
    "oppose": confirm(say_oppose, "do:oppose"),
    "close": Step(say_close, KEY, {"1": "do:choose_archive", "2": "do:choose_delete", "9": "menu"},
                  words=words(**{"1": lambda: _("keep, archive, ten years"), "2": lambda: _("delete, erase, remove"),
                                 "9": MENU_WORDS})),
    "close_confirm": confirm(say_close_confirm, "do:close"),
    "reopen": confirm(say_reopen, "do:reopen"),
    "history": Step(say_history, KEY, {"1": "do:history_more", "2": "history_pick", "3": "do:history_send",
                                       "9": "menu"},
                    words=words(**{"1": lambda: _("next, more, following, others"),
                                   "2": lambda: _("report, block, act"), "3": lambda: _("send, sms, post, letter"),
                                   "9": MENU_WORDS})),
    "history_pick": number(say_history_pick, "accept_pick", back="history"),
    "history_act": Step(say_history_act, KEY, {"1": "report", "2": "block", "9": "history"},
                        words=words(**{"1": lambda: _("report, not recognised, unknown, don't know"),
                                       "2": lambda: _("block"), "9": lambda: _("history")})),
    "report": confirm(say_report, "do:report"),
    "block": confirm(say_block, "do:block"),
    "emergency": Step(say_emergency, KEY, {"1": "do:change_samu", "2": "do:change_break_glass",
                                           "3": "do:change_masked", "9": "menu"},
                      words=words(**{"1": lambda: _("samu, fifteen"), "2": lambda: _("break, glass, any professional"),
                                     "3": lambda: _("hidden, documents, masked"), "9": MENU_WORDS})),
    "emergency_confirm": confirm(say_emergency_confirm, "do:set_emergency"),
    # The message at each access: naming who (1), naming nobody (2), none (3); done at once, with a reference.
    "notices": Step(say_notices, KEY, {"1": "do:notices_full", "2": "do:notices_discreet", "3": "do:notices_off",
                                       "9": "menu"},
                    words=words(**{"1": lambda: _("names, who, with names, full"),
                                   "2": lambda: _("discreet, without names, nobody, day only"),
                                   "3": lambda: _("no message, none, no messages"), "9": MENU_WORDS})),
    "receipt": Step(say_receipt, KEY, {"9": "menu", "1": "menu"}, on_silence="goodbye",
                    words=words(**{"9": MENU_WORDS})),
    # A person: a transfer during opening hours, else (or when nobody answers) a callback.
    "transfer": Step(say_transfer, DIAL),
    "callback": Step(say_callback, KEY, {"1": "do:callback_slot_1", "2": "do:callback_slot_2", "9": "menu"},
                     words=words(**{"1": lambda: _("morning, first"), "2": lambda: _("afternoon, second")})),
    "callback_number": Step(say_callback_number, KEY, {"1": "do:request_callback", "2": "callback_phone",
                                                       "9": "menu"}, words=YES_NO_WORDS),
    "callback_phone": number(say_callback_phone, "accept_callback_phone", spoken="digits", back="callback"),
    "goodbye": Step(say_goodbye, END),
    "silent_goodbye": Step(say_silent_goodbye, END),
}

# What the caller came for, once a menu key chose it (do:goal_*) or once they are identified for it.
SWITCHES: dict[str, Switch] = {
    "route_goal": Switch("caller", other="route_for", no_response="route_identity"),
    "route_identity": Switch("goal", cases=[("for_other", "do:ask_own_identity")], other="do:ask_identity"),
    "route_for": Switch("goal", cases=[("for_other", "for_nir")], other="do:note_mobile"),
    "route_space": Switch("goal", cases=[("change", "route_change"), ("helpers", "route_helpers"),
                                         ("history", "do:start_history"), ("emergency", "route_emergency"),
                                         ("notices", "route_notices")],
                          other="do:tell_state"),
    "route_change": Switch("space", cases=[("restricted", "do:refuse"),
                                           ("closing_soon_after_the_letter", "do:tell_too_late")],
                           other="route_offer"),
    # Saying no, closing and reopening never apply at the same time.
    "route_offer": Switch("space", cases=[("can_oppose", "oppose"), ("can_close", "close"), ("can_reopen", "reopen")],
                          other="do:tell_state"),
    "route_helpers": Switch("space", cases=[("restricted_beyond_minor_alone", "do:refuse")], other="helpers"),
    "route_notices": Switch("space", cases=[("restricted_beyond_minor_alone", "do:refuse")], other="notices"),
    "route_emergency": Switch("space", cases=[("can_emergency", "emergency")], other="do:tell_state"),
}

# The actions as the voice adapter runs them: each one followed through the switch steps it leads to.
ACTIONS = runs(actions.ACTIONS, SWITCHES)
check(STEPS, SWITCHES, ACTIONS)
