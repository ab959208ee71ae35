"""How the call script runs: the kinds of step, and the engine that follows actions and switch steps."""
from dataclasses import dataclass, field
from typing import Callable

from .call import Call
from .conditions import OPERANDS, TESTS

KEY, NUMBER, YESNO, END = "key", "number", "yesno", "end"
WAIT, DIAL = "wait", "dial"  # a wait for the caller to be ready; a transfer to an adviser
MAX_HOPS = 20  # a script whose switch steps loop is a fault, said as one, not a hung webhook


@dataclass(frozen=True)
class Step:
    """A step that speaks: it says its prompt, then waits for an answer and routes it (or ends the call)."""
    say: Callable[[Call], list]                 # sentences, or (sentence, language) pairs
    expect: str                                     # KEY, NUMBER (digits then #), YESNO, WAIT, DIAL, END
    routes: dict[str, str] = field(default_factory=dict)   # key -> step or do:action
    words: Callable[[], dict[str, str]] | None = None      # key -> spoken words that choose it
    accept: str | None = None                       # NUMBER: the action that checks and stores it
    on_silence: str | None = None                   # where silence leads, when not re-asked
    spoken: str | None = None                       # NUMBER: what a spoken answer is read as (ivr/heard.py)
    identifying: bool = False                       # silence offers a wait, never a goodbye
    back: str = "menu"                              # where 9 or «retour» goes when 9 is not a route

    @property
    def timeout(self) -> int:
        """Seconds Twilio waits for an answer (and, for a number, between two keys): QUALITY §3."""
        return {NUMBER: 15, WAIT: 20}.get(self.expect, 8)


@dataclass(frozen=True)
class Switch:
    """A step that says nothing and waits for nothing (a goflow router): the engine reads `operand` from the
    call and takes the first case whose test holds, else `other`; `no_response` when there is nothing to read."""
    operand: str                                    # a name of conditions.OPERANDS
    cases: list[tuple[str, str]] = field(default_factory=list)  # (test of TESTS[operand], target), in order
    other: str = "menu"                             # where the call goes when no test holds
    no_response: str | None = None                  # where it goes when the operand is None, if not to `other`


def route(call: Call, switch: Switch) -> str:
    """The target a switch step takes for this call."""
    value = OPERANDS[switch.operand](call)
    if value is None and switch.no_response:
        return switch.no_response
    tests = TESTS[switch.operand]
    return next((target for test, target in switch.cases if tests[test](value)), switch.other)


def follow(call: Call, target: str, switches: dict[str, Switch], actions: dict[str, Callable]) -> str:
    """The step that speaks next: `target` after the actions (do:name) and switch steps it leads through."""
    try:
        for _ in range(MAX_HOPS):
            if target.startswith("do:"):
                target = actions[target[3:]](call)
            elif target in switches:
                call.hold(True)
                target = route(call, switches[target])
            else:
                return target
        raise RuntimeError(f"the call script loops at {target}")
    finally:
        call.hold(False)


def runs(actions: dict[str, Callable], switches: dict[str, Switch]) -> dict[str, Callable]:
    """The actions as the voice adapter calls them: each followed through the table to a step that speaks."""
    def followed(action):
        return lambda call, *typed: follow(call, action(call, *typed), switches, actions)
    return {name: followed(action) for name, action in actions.items()}


def check(steps: dict[str, Step], switches: dict[str, Switch], actions: dict[str, Callable]) -> None:
    """Every target of the table exists, and every case names a test of its switch's operand."""
    unknown: list = [(name, s.operand) for name, s in switches.items() if s.operand not in OPERANDS]
    unknown += [(name, test) for name, s in switches.items() for test, _ in s.cases
                if test not in TESTS.get(s.operand, {})]
    targets = [t for s in steps.values() for t in [*s.routes.values(), s.on_silence, s.back]] + \
        ["do:" + s.accept for s in steps.values() if s.accept] + \
        [t for s in switches.values() for t in [*(to for _, to in s.cases), s.other, s.no_response]]
    unknown += [t for t in filter(None, targets)
                if not (t[3:] in actions if t.startswith("do:") else t in steps or t in switches)]
    if unknown:
        raise ValueError(f"the call script names what does not exist: {unknown}")
