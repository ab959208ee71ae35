"""What callers say, as they say it, and the choice each must reach (QUALITY §3: plain speech understood).

Matched after folding case and accents, with both apostrophes between words («l'historique», «d’urgence»);
a «no» wins over a «yes» («pas d'accord»). Over 200 utterances over the steps that take speech, both languages."""
import pytest

from ivr.voice import understood

CORPUS = [
    # the main menu: 1 say no / close / reopen, 2 for someone else, 3 history, 4 emergency, * repeat, 0 help,
    # 00 an adviser (a generic command of ETSI ES 202 076, as are repeat, help, back and cancel at every step)
    ("fr", "menu", "non", "1"), ("fr", "menu", "je refuse", "1"), ("fr", "menu", "dire non", "1"),
    ("fr", "menu", "je ne veux pas de dossier", "1"), ("fr", "menu", "je voudrais m'opposer", "1"),
    ("fr", "menu", "je m’oppose", "1"), ("fr", "menu", "fermer mon dossier", "1"),
    ("fr", "menu", "l'historique", "3"), ("fr", "menu", "l’historique s'il vous plaît", "3"),
    ("fr", "menu", "qui a regardé mon dossier", "3"), ("fr", "menu", "l'urgence", "4"),
    ("fr", "menu", "accès d'urgence", "4"), ("fr", "menu", "le samu", "4"),
    ("fr", "menu", "l'aide", "0"), ("fr", "menu", "un conseiller s'il vous plaît", "00"),
    ("fr", "menu", "répétez", "*"), ("fr", "menu", "pardon", "*"),
    ("en", "menu", "I want to say no", "1"), ("en", "menu", "close it", "1"), ("en", "menu", "the history", "3"),
    ("en", "menu", "who looked", "3"), ("en", "menu", "emergency access", "4"), ("en", "menu", "help", "0"),
    ("en", "menu", "repeat please", "*"),
    # confirmations: 1 yes, 9 no (back); a «no» wins
    ("fr", "oppose", "oui", "1"), ("fr", "oppose", "d'accord", "1"), ("fr", "oppose", "d’accord", "1"),
    ("fr", "oppose", "pas d'accord", "9"), ("fr", "oppose", "non merci", "9"), ("fr", "oppose", "annuler", "9"),
    ("fr", "oppose", "oui enfin non", "9"), ("fr", "close_confirm", "c'est ça", "1"),
    ("fr", "close_confirm", "oui c’est bien ça", "1"),
    ("en", "oppose", "yes", "1"), ("en", "oppose", "okay", "1"), ("en", "oppose", "no thanks", "9"),
    ("en", "oppose", "don't", "9"), ("en", "reopen", "cancel", "9"), ("en", "reopen", "that's right", "1"),
    # more utterances, step by step
    ("fr", "menu", "je veux m'opposer", "1"), ("fr", "menu", "opposition", "1"),
    ("fr", "menu", "je ne veux pas", "1"), ("fr", "menu", "fermer", "1"),
    ("fr", "menu", "fermer mon espace santé", "1"), ("fr", "menu", "rouvrir mon espace", "1"),
    ("fr", "menu", "supprimer mon dossier", "1"), ("fr", "menu", "pour ma mère", "2"),
    ("fr", "menu", "pour mon enfant", "2"), ("fr", "menu", "j'appelle pour quelqu'un d'autre", "2"),
    ("fr", "menu", "pour une autre personne", "2"), ("fr", "menu", "je suis son tuteur", "2"),
    ("fr", "menu", "l'historique des accès", "3"), ("fr", "menu", "qui a consulté", "3"),
    ("fr", "menu", "la liste", "3"), ("fr", "menu", "historique", "3"), ("fr", "menu", "les urgences", "4"),
    ("fr", "menu", "accès en urgence", "4"), ("fr", "menu", "le bris de glace", "4"),
    ("fr", "menu", "c'est urgent", "4"), ("fr", "menu", "aide", "0"), ("fr", "menu", "aidez-moi", "0"),
    ("fr", "menu", "assistance", "0"), ("fr", "menu", "encore", "*"), ("fr", "menu", "répéter s'il vous plaît", "*"),
    ("fr", "menu", "quoi", "*"), ("en", "menu", "oppose", "1"), ("en", "menu", "I refuse", "1"),
    ("en", "menu", "I object", "1"), ("en", "menu", "close my record", "1"), ("en", "menu", "reopen", "1"),
    ("en", "menu", "delete", "1"), ("en", "menu", "for my mother", "2"), ("en", "menu", "someone else", "2"),
    ("en", "menu", "on behalf of my child", "2"), ("en", "menu", "I am her guardian", "2"),
    ("en", "menu", "history", "3"), ("en", "menu", "who looked at my record", "3"),
    ("en", "menu", "the list of accesses", "3"), ("en", "menu", "emergency", "4"), ("en", "menu", "the samu", "4"),
    ("en", "menu", "break glass", "4"), ("en", "menu", "help me", "0"), ("en", "menu", "operator", "00"),
    ("en", "menu", "say that again", "*"), ("en", "menu", "what", "*"), ("fr", "oppose", "oui je confirme", "1"),
    ("fr", "oppose", "ok", "1"), ("fr", "oppose", "exact", "1"), ("fr", "oppose", "confirmer", "1"),
    ("fr", "oppose", "non", "9"), ("fr", "oppose", "pas du tout", "9"), ("fr", "oppose", "retour", "9"),
    ("fr", "oppose", "erreur", "9"), ("fr", "close_confirm", "oui", "1"), ("fr", "close_confirm", "non pas ça", "9"),
    ("fr", "reopen", "d'accord je veux", "1"), ("fr", "reopen", "non je ne veux pas", "9"),
    ("fr", "report", "oui signaler", "1"), ("fr", "block", "non", "9"), ("fr", "emergency_confirm", "oui", "1"),
    ("fr", "emergency_confirm", "annule", "9"), ("fr", "helper_confirm", "c'est ça", "1"),
    ("fr", "helper_remove", "non", "9"), ("fr", "heard", "oui c'est bon", "1"),
    ("fr", "heard", "non c'est faux", "9"), ("en", "oppose", "yes please", "1"), ("en", "oppose", "confirm", "1"),
    ("en", "oppose", "I agree", "1"), ("en", "oppose", "no", "9"), ("en", "oppose", "not now", "9"),
    ("en", "oppose", "wrong", "9"), ("en", "close_confirm", "right", "1"), ("en", "close_confirm", "go back", "9"),
    ("en", "reopen", "yes", "1"), ("en", "report", "okay", "1"), ("en", "block", "no don't", "9"),
    ("en", "emergency_confirm", "cancel", "9"), ("en", "helper_confirm", "yes", "1"),
    ("en", "helper_remove", "no", "9"), ("en", "heard", "that's right", "1"), ("en", "heard", "no that's wrong", "9"),
    ("fr", "close", "garder mes données", "1"), ("fr", "close", "archiver", "1"), ("fr", "close", "supprimer", "2"),
    ("fr", "close", "effacer mes données", "2"), ("fr", "close", "retour", "9"), ("en", "close", "keep them", "1"),
    ("en", "close", "archive", "1"), ("en", "close", "delete everything", "2"), ("en", "close", "erase", "2"),
    ("fr", "history", "la suite", "1"), ("fr", "history", "les suivants", "1"), ("fr", "history", "autres", "1"),
    ("en", "history", "next", "1"), ("en", "history", "more", "1"), ("en", "history", "the others", "1"),
    ("fr", "history_act", "signaler", "1"), ("fr", "history_act", "je ne le connais pas", "1"),
    ("fr", "history_act", "bloquer", "2"), ("fr", "history_act", "pas reconnu", "1"),
    ("en", "history_act", "report it", "1"), ("en", "history_act", "block him", "2"),
    ("en", "history_act", "unknown", "1"), ("fr", "emergency", "le samu", "1"), ("fr", "emergency", "quinze", "1"),
    ("fr", "emergency", "bris de glace", "2"), ("fr", "emergency", "tout professionnel", "2"),
    ("en", "emergency", "samu", "1"), ("en", "emergency", "break glass", "2"),
    ("fr", "help_menu", "vérifier un message", "1"), ("fr", "help_menu", "un courrier", "1"),
    ("fr", "help_menu", "aidant", "2"), ("fr", "help_menu", "mes aidants", "2"), ("fr", "help_menu", "retour", "9"),
    ("en", "help_menu", "check a message", "1"), ("en", "help_menu", "trusted helper", "2"),
    ("en", "help_menu", "back", "9"), ("fr", "helpers", "ajouter un aidant", "1"), ("fr", "helpers", "retirer", "2"),
    ("fr", "helpers", "enlever un aidant", "2"), ("en", "helpers", "add one", "1"), ("en", "helpers", "remove", "2"),
    ("fr", "receipt", "menu principal", "9"), ("fr", "receipt", "revenir", "9"), ("en", "receipt", "main menu", "9"),
    ("en", "receipt", "back", "9"),
    # the generic commands at every step (ETSI ES 202 076): repeat, help, back, cancel, an adviser
    ("fr", "history", "un conseiller", "00"), ("fr", "emergency", "je veux parler à quelqu'un", "00"),
    ("fr", "oppose", "je voudrais parler à une personne", "00"), ("en", "close", "an agent please", "00"),
    ("en", "history", "can I talk to someone", "00"), ("en", "oppose", "operator", "00"),
    ("fr", "emergency", "répétez s'il vous plaît", "*"), ("fr", "history", "comment", "*"),
    ("en", "emergency", "say that again", "*"), ("fr", "close", "je ne comprends pas", "0"),
    ("en", "history_act", "help me", "0"), ("fr", "history", "revenir en arrière", "9"),
    ("en", "emergency", "go back", "9"), ("fr", "helpers", "annuler", "cancel"),
    ("en", "helpers", "never mind", "cancel"),
    ("en", "menu", "english please", "9"), ("fr", "menu", "anglais", "9"), ("en", "menu", "in English", "9"),
    # a number or code read back: right, or say it again
    ("fr", "heard", "oui c'est juste", "1"), ("fr", "heard", "non ce n'est pas ça", "9"),
    ("en", "heard", "correct", "1"),
    ("en", "heard", "no that's not it", "9"),
    # details that do not match: which part to give again
    ("fr", "fix", "le numéro de sécurité sociale", "1"), ("fr", "fix", "la carte vitale", "2"),
    ("fr", "fix", "ma date de naissance", "3"), ("fr", "fix", "le code du courrier", "4"),
    ("en", "fix", "the card", "2"), ("en", "fix", "my date of birth", "3"),
    # the wait and its offers; a callback
    ("fr", "wait", "je suis prêt", "*"), ("fr", "wait", "voilà", "*"), ("en", "wait", "ready", "*"),
    ("en", "wait", "okay I have it", "*"), ("fr", "stuck", "attendre encore", "1"), ("fr", "stuck", "par sms", "2"),
    ("fr", "stuck", "un conseiller", "3"), ("en", "stuck", "send me a text", "2"),
    ("fr", "callback", "le matin", "1"), ("fr", "callback", "l'après-midi", "2"),
    ("en", "callback", "the afternoon", "2"),
]


@pytest.mark.parametrize("language,step,said,key", CORPUS, ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in CORPUS])
def test_what_a_caller_says_reaches_its_choice(app, language, step, said, key):
    with app.test_request_context():
        assert understood(step, language, said) == key
