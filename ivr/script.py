"""The call script of the 34 22 line, as a table: each step says something, expects an answer, and routes it.

Read STEPS top to bottom like an agent's script. A route's target is another step, a switch step of SWITCHES,
or `do:<name>`, an action of ivr/actions.py that calls one service and names the next step. A switch step says
nothing and waits for nothing: it tests the call (the caller, the goal chosen, the space) and goes on, as a
nyaruka/goflow router does: its cases in order, then `other`; `no_response` when there is nothing to test.
"""
from flask_babel import gettext as _

from . import actions
from .engine import END, KEY, NUMBER, YESNO, Step, Switch, check, runs
from .prompts import (
                      MENU_WORDS,
                      YES_NO_WORDS,
                      menu_words,
                      say_birth,
                      say_block,
                      say_check,
                      say_check_reference,
                      say_close,
                      say_close_confirm,
                      say_code,
                      say_emergency,
                      say_emergency_confirm,
                      say_for_nir,
                      say_goodbye,
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
                      say_language,
                      say_menu,
                      say_nir,
                      say_oppose,
                      say_receipt,
                      say_reopen,
                      say_report,
                      say_serial,
                      say_silent_goodbye,
                      say_sms_code,
                      words,
)

STEPS: dict[str, Step] = {
    "language": Step(say_language, KEY, {"9": "do:switch_language"}, on_silence="menu", on_other="menu",
                     words=words(**{"9": lambda: _("english, anglais, french, francais")})),
    "menu": Step(say_menu, KEY, {"1": "do:goal_change", "2": "do:goal_for_other", "3": "do:goal_history",
                                 "4": "do:goal_emergency", "0": "help_menu"},
                 words=menu_words),
    "help_menu": Step(say_help_menu, KEY, {"1": "check_reference", "2": "do:goal_helpers", "9": "menu"},
                      words=words(**{"1": lambda: _("check, reference, message, letter, genuine"),
                                     "2": lambda: _("helper, trusted, aidant"), "9": MENU_WORDS})),
    "for_nir": Step(say_for_nir, NUMBER, accept="accept_for_nir", timeout=10),
    "helpers": Step(say_helpers, KEY, {"1": "do:helper_add", "2": "do:helper_remove_start", "9": "menu"},
                    words=words(**{"1": lambda: _("name, add, new"), "2": lambda: _("remove, end, delete"),
                                   "9": MENU_WORDS})),
    "helper_nir": Step(say_helper_nir, NUMBER, accept="accept_helper_nir", timeout=10),
    "helper_birth": Step(say_helper_birth, NUMBER, accept="accept_helper_birth", timeout=10),
    "helper_confirm": Step(say_helper_confirm, YESNO, {"1": "do:name_helper", "2": "do:cancel"}, words=YES_NO_WORDS),
    "helper_pick": Step(say_helper_pick, NUMBER, accept="accept_helper_pick"),
    "helper_remove": Step(say_helper_remove, YESNO, {"1": "do:revoke_helper", "2": "do:cancel"},
                          words=YES_NO_WORDS),
    "check_reference": Step(say_check_reference, NUMBER, accept="accept_reference", timeout=10),
    "nir": Step(say_nir, NUMBER, accept="accept_nir", timeout=10),
    "serial": Step(say_serial, NUMBER, accept="accept_serial", timeout=10),
    "birth": Step(say_birth, NUMBER, accept="accept_birth", timeout=10),
    "code": Step(say_code, NUMBER, accept="accept_code", timeout=10),
    "sms_code": Step(say_sms_code, NUMBER, accept="accept_sms_code", timeout=10),
    "check": Step(say_check, YESNO, {"1": "do:identify", "2": "do:start_identity"}, words=YES_NO_WORDS),
    "oppose": Step(say_oppose, YESNO, {"1": "do:oppose", "2": "do:cancel"}, words=YES_NO_WORDS),
    "close": Step(say_close, KEY, {"1": "do:choose_archive", "2": "do:choose_delete", "9": "menu"},
                  words=words(**{"1": lambda: _("keep, archive, ten years"), "2": lambda: _("delete, erase, remove"),
                                 "9": MENU_WORDS})),
    "close_confirm": Step(say_close_confirm, YESNO, {"1": "do:close", "2": "do:cancel"}, words=YES_NO_WORDS),
    "reopen": Step(say_reopen, YESNO, {"1": "do:reopen", "2": "do:cancel"}, words=YES_NO_WORDS),
    "history": Step(say_history, KEY, {"1": "do:history_more", "2": "history_pick", "3": "do:history_send",
                                       "9": "menu"},
                    words=words(**{"1": lambda: _("next, more, following, others"),
                                   "2": lambda: _("report, block, act"), "3": lambda: _("send, sms, post, letter"),
                                   "9": MENU_WORDS})),
    "history_pick": Step(say_history_pick, NUMBER, accept="accept_pick"),
    "history_act": Step(say_history_act, KEY, {"1": "report", "2": "block", "9": "history"},
                        words=words(**{"1": lambda: _("report, not recognised, unknown, don't know"),
                                       "2": lambda: _("block"), "9": lambda: _("back, history")})),
    "report": Step(say_report, YESNO, {"1": "do:report", "2": "do:cancel"}, words=YES_NO_WORDS),
    "block": Step(say_block, YESNO, {"1": "do:block", "2": "do:cancel"}, words=YES_NO_WORDS),
    "emergency": Step(say_emergency, KEY, {"1": "do:change_samu", "2": "do:change_break_glass",
                                           "3": "do:change_masked", "9": "menu"},
                      words=words(**{"1": lambda: _("samu, fifteen"), "2": lambda: _("break, glass, any professional"),
                                     "3": lambda: _("hidden, documents, masked"), "9": MENU_WORDS})),
    "emergency_confirm": Step(say_emergency_confirm, YESNO, {"1": "do:set_emergency", "2": "do:cancel"},
                              words=YES_NO_WORDS),
    "receipt": Step(say_receipt, KEY, {"1": "menu"}, on_silence="goodbye", words=words(**{"1": MENU_WORDS})),
    "goodbye": Step(say_goodbye, END),
    "silent_goodbye": Step(say_silent_goodbye, END),
}

# What the caller came for, once a menu key chose it (do:goal_*) or once they are identified for it.
SWITCHES: dict[str, Switch] = {
    "route_goal": Switch("caller", other="route_for", no_response="route_identity"),
    "route_identity": Switch("goal", cases=[("for_other", "do:ask_own_identity")], other="do:ask_identity"),
    "route_for": Switch("goal", cases=[("for_other", "for_nir")], other="do:note_mobile"),
    "route_space": Switch("goal", cases=[("change", "route_change"), ("helpers", "route_helpers"),
                                         ("history", "do:start_history"), ("emergency", "route_emergency")],
                          other="do:tell_state"),
    "route_change": Switch("space", cases=[("restricted", "do:refuse"),
                                           ("closing_soon_after_the_letter", "do:tell_too_late")],
                           other="route_offer"),
    # Saying no, closing and reopening never apply at the same time.
    "route_offer": Switch("space", cases=[("can_oppose", "oppose"), ("can_close", "close"), ("can_reopen", "reopen")],
                          other="do:tell_state"),
    "route_helpers": Switch("space", cases=[("restricted_beyond_minor_alone", "do:refuse")], other="helpers"),
    "route_emergency": Switch("space", cases=[("can_emergency", "emergency")], other="do:tell_state"),
}

# The actions as the voice adapter runs them: each one followed through the switch steps it leads to.
ACTIONS = runs(actions.ACTIONS, SWITCHES)
check(STEPS, SWITCHES, ACTIONS)
