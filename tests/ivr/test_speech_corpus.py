"""What callers say, as they say it, and the choice each must reach (QUALITY §3: plain speech understood).

Matched after folding case and accents, with both apostrophes between words («l'historique», «d’urgence»);
a «no» wins over a «yes» («pas d'accord»). Issue 12 grows this corpus to 150 utterances and more steps."""
import pytest

from ivr.voice import understood

CORPUS = [
    # the main menu: 1 say no / close / reopen, 2 for someone else, 3 history, 4 emergency, * repeat, 0 help
    ("fr", "menu", "non", "1"), ("fr", "menu", "je refuse", "1"), ("fr", "menu", "dire non", "1"),
    ("fr", "menu", "je ne veux pas de dossier", "1"), ("fr", "menu", "je voudrais m'opposer", "1"),
    ("fr", "menu", "je m’oppose", "1"), ("fr", "menu", "fermer mon dossier", "1"),
    ("fr", "menu", "l'historique", "3"), ("fr", "menu", "l’historique s'il vous plaît", "3"),
    ("fr", "menu", "qui a regardé mon dossier", "3"), ("fr", "menu", "l'urgence", "4"),
    ("fr", "menu", "accès d'urgence", "4"), ("fr", "menu", "le samu", "4"),
    ("fr", "menu", "l'aide", "0"), ("fr", "menu", "un conseiller s'il vous plaît", "0"),
    ("fr", "menu", "répétez", "*"), ("fr", "menu", "pardon", "*"),
    ("en", "menu", "I want to say no", "1"), ("en", "menu", "close it", "1"), ("en", "menu", "the history", "3"),
    ("en", "menu", "who looked", "3"), ("en", "menu", "emergency access", "4"), ("en", "menu", "help", "0"),
    ("en", "menu", "repeat please", "*"),
    # confirmations: 1 yes, 2 no; a «no» wins
    ("fr", "oppose", "oui", "1"), ("fr", "oppose", "d'accord", "1"), ("fr", "oppose", "d’accord", "1"),
    ("fr", "oppose", "pas d'accord", "2"), ("fr", "oppose", "non merci", "2"), ("fr", "oppose", "annuler", "2"),
    ("fr", "oppose", "oui enfin non", "2"), ("fr", "close_confirm", "c'est ça", "1"),
    ("fr", "close_confirm", "oui c’est bien ça", "1"),
    ("en", "oppose", "yes", "1"), ("en", "oppose", "okay", "1"), ("en", "oppose", "no thanks", "2"),
    ("en", "oppose", "don't", "2"), ("en", "reopen", "cancel", "2"), ("en", "reopen", "that's right", "1"),
]


@pytest.mark.parametrize("language,step,said,key", CORPUS, ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in CORPUS])
def test_what_a_caller_says_reaches_its_choice(app, language, step, said, key):
    with app.test_request_context():
        assert understood(step, language, said) == key
