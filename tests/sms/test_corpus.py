"""What people text, as they text it, and the command each must reach (SPEC §3 SMS: a table of phrases per command).

Matched after folding case and accents, with apostrophes (' and ’), hyphens and slashes between words; small
words («le», «d'», "the", "please") left out. A text that is only one of Twilio's own words (STOP, START…) is
Twilio's: it never reaches a Relais command. Both languages, over 150 texts."""
import pytest

from ivr.sms import PHRASES, SWITCHES, Vocabulary, parse, understood

CORPUS = [
    # Twilio's words, alone in the message: Twilio's business (opt-out / opt-in), never a Relais command
    ("STOP", "twilio_opt_out"), ("stop", "twilio_opt_out"), ("Stop ", "twilio_opt_out"), ("STOPALL", "twilio_opt_out"),
    ("Unsubscribe", "twilio_opt_out"), ("CANCEL", "twilio_opt_out"), ("end", "twilio_opt_out"),
    ("Quit", "twilio_opt_out"), ("REVOKE", "twilio_opt_out"), ("OPTOUT", "twilio_opt_out"), ("stop.", "twilio_opt_out"),
    ("START", "twilio_opt_in"), ("start", "twilio_opt_in"), ("UNSTOP", "twilio_opt_in"), ("Yes", "twilio_opt_in"),
    # help
    ("AIDE", "help"), ("aide", "help"), ("Aide svp", "help"), ("?", "help"), ("menu", "help"), ("MENU", "help"),
    ("commandes", "help"), ("info", "help"), ("HELP", "help"), ("help please", "help"), ("Commands", "help"),
    # history
    ("HISTORIQUE", "history"), ("historique", "history"), ("Historique svp", "history"), ("l'historique", "history"),
    ("L’historique", "history"), ("mon historique", "history"), ("Accès", "history"), ("acces", "history"),
    ("historique des accès", "history"), ("qui a consulté", "history"), ("Qui a regardé ?", "history"),
    ("liste", "history"), ("Bonjour historique merci", "history"), ("HISTORY", "history"), ("my history", "history"),
    ("the history please", "history"), ("who looked", "history"), ("Who accessed", "history"), ("log", "history"),
    # emergency: the settings as they are
    ("URGENCE", "emergency"), ("urgences", "emergency"), ("l'urgence", "emergency"), ("accès d'urgence", "emergency"),
    ("Accès d’urgence", "emergency"), ("EMERGENCY", "emergency"), ("emergency access", "emergency"),
    # both emergency accesses off / on
    ("URGENCE NON", "emergency_off"), ("urgence non", "emergency_off"), ("URGENCE OFF", "emergency_off"),
    ("Urgence Off", "emergency_off"), ("PAS D'URGENCE", "emergency_off"), ("pas d’urgence", "emergency_off"),
    ("Pas d urgence", "emergency_off"), ("plus d'urgence", "emergency_off"), ("urgences non", "emergency_off"),
    ("accès d'urgence non", "emergency_off"), ("urgence: non", "emergency_off"),
    ("URGENCE NON MERCI", "emergency_off"), ("non urgence", "emergency_off"),
    ("désactiver l'urgence", "emergency_off"), ("urgence désactivée", "emergency_off"),
    ("EMERGENCY OFF", "emergency_off"), ("emergency off", "emergency_off"), ("NO EMERGENCY", "emergency_off"),
    ("no emergency access", "emergency_off"), ("Emergency: no", "emergency_off"),
    ("disable emergency", "emergency_off"),
    ("URGENCE OUI", "emergency_on"), ("urgence oui", "emergency_on"), ("Urgence ON", "emergency_on"),
    ("activer l'urgence", "emergency_on"), ("autoriser l'urgence", "emergency_on"), ("EMERGENCY ON", "emergency_on"),
    ("emergency yes", "emergency_on"), ("allow emergency", "emergency_on"), ("urgence oui enfin non", "emergency_off"),
    # SAMU
    ("SAMU NON", "samu_off"), ("samu non", "samu_off"), ("Samu off", "samu_off"), ("SAMU OFF", "samu_off"),
    ("pas de samu", "samu_off"), ("Pas de SAMU", "samu_off"), ("refuser le samu", "samu_off"),
    ("le samu non", "samu_off"), ("le 15 non", "samu_off"), ("SAMU: NON", "samu_off"), ("samu stop", "samu_off"),
    ("no samu", "samu_off"), ("SAMU OUI", "samu_on"), ("samu oui", "samu_on"), ("Samu on", "samu_on"),
    ("autoriser le SAMU", "samu_on"), ("samu yes", "samu_on"), ("allow samu", "samu_on"), ("SAMU", "samu"),
    # break-glass
    ("BRIS DE GLACE NON", "break_glass_off"), ("bris de glace non", "break_glass_off"),
    ("Bris-de-glace off", "break_glass_off"), ("bris de glace off", "break_glass_off"), ("BRIS OFF", "break_glass_off"),
    ("pas de bris de glace", "break_glass_off"), ("BRIS DE GLACE OUI", "break_glass_on"),
    ("bris de glace oui", "break_glass_on"), ("BREAK GLASS OFF", "break_glass_off"),
    ("breakglass off", "break_glass_off"), ("Break-glass off", "break_glass_off"),
    ("no break glass", "break_glass_off"),
    ("BREAK GLASS ON", "break_glass_on"), ("breakglass on", "break_glass_on"), ("bris de glace", "break_glass"),
    # hidden documents in an emergency
    ("MASQUES NON", "masked_off"), ("documents masqués oui", "masked_on"), ("HIDDEN ON", "masked_on"),
    ("hidden off", "masked_off"),
    # notices at each access: Relais's own words, never STOP
    ("ALERTES NON", "alerts_off"), ("alertes non", "alerts_off"), ("Alertes off", "alerts_off"),
    ("plus d'alertes", "alerts_off"), ("pas d’alertes", "alerts_off"), ("stop alertes", "alerts_off"),
    ("arrêter les alertes", "alerts_off"), ("désactiver les alertes", "alerts_off"), ("ALERTES OUI", "alerts_on"),
    ("alertes oui", "alerts_on"), ("Alertes ON", "alerts_on"), ("activer les alertes", "alerts_on"),
    ("ALERTS OFF", "alerts_off"), ("alerts off", "alerts_off"), ("no alerts", "alerts_off"),
    ("stop alerts", "alerts_off"), ("notifications off", "alerts_off"), ("ALERTS ON", "alerts_on"),
    ("alerts on", "alerts_on"), ("Alerts: yes", "alerts_on"), ("ALERTES", "alerts"),
    # discreet notices and DETAIL (issue 13 §8)
    ("ALERTES DISCRETES", "alerts_discreet"), ("Alertes discrètes", "alerts_discreet"),
    ("alertes discrètes svp", "alerts_discreet"), ("Discret", "alerts_discreet"),
    ("alertes sans nom", "alerts_discreet"), ("ALERTS DISCREET", "alerts_discreet"),
    ("discreet alerts please", "alerts_discreet"), ("ALERTES COMPLETES", "alerts_full"),
    ("alertes complètes", "alerts_full"), ("alertes avec les noms", "alerts_full"), ("ALERTS FULL", "alerts_full"),
    ("alerts with names", "alerts_full"), ("DETAIL", "detail"), ("Détail", "detail"), ("détails svp", "detail"),
    ("c'est qui ?", "detail"), ("Qui est-ce ?", "detail"), ("qui", "detail"), ("detail 123 456 789", "detail"),
    ("who was it?", "detail"), ("Details please", "detail"),
    # oppose, close, reopen
    ("OPPOSER", "oppose"), ("opposition", "oppose"), ("je m'oppose", "oppose"), ("Je m’oppose", "oppose"),
    ("je refuse", "oppose"), ("refuser", "oppose"), ("OBJECT", "oppose"), ("I object", "oppose"),
    ("FERMER", "close"), ("fermer", "close"), ("fermer mon espace", "close"), ("Fermer supprimer", "close"),
    ("clôturer", "close"), ("CLOSE", "close"), ("close my record", "close"),
    ("ROUVRIR", "reopen"), ("réouvrir", "reopen"), ("rouvrir mon espace", "reopen"), ("REOPEN", "reopen"),
    # answering a notice
    ("BLOQUER", "block"), ("bloquer 123 456 789", "block"), ("Block", "block"), ("SIGNALER", "report"),
    ("signaler", "report"), ("inconnu", "report"), ("je ne le connais pas", "report"), ("pas moi", "report"),
    ("REPORT", "report"), ("report 123456789", "report"), ("not me", "report"),
    # helpers
    ("AIDANTS", "helpers"), ("mes aidants", "helpers"), ("HELPERS", "helpers"), ("RETIRER 1", "revoke"),
    ("enlever 2", "revoke"), ("REMOVE 1", "revoke"),
    # confirmations: the code, then the date of birth as people write it, or the letter's code
    ("123456 12/03/1940", "confirm"), ("123456 12 03 1940", "confirm"), ("123456 12031940", "confirm"),
    ("123456, 12/03/1940", "confirm"), ("123456 12-03-1940", "confirm"), ("123456 12.03.1940", "confirm"),
    ("123456 12 mars 1940", "confirm"), ("123456 ABCD-EFGH-JKLM", "confirm"),
    # nothing Relais knows: the help text is the answer, nothing changes
    ("bonjour", None), ("merci", None), ("ne pas fermer", None), ("non", None), ("oui", None), ("hello", None),
    ("stop stop", None), ("STOP PLEASE", None),
]


def test_the_corpus_is_large_and_in_both_languages():
    assert len(CORPUS) >= 100
    assert len({text for text, _ in CORPUS}) == len(CORPUS), "each text once"


@pytest.mark.parametrize("text,command", CORPUS, ids=[t for t, _ in CORPUS])
def test_each_text_reaches_its_command(app, text, command):
    with app.test_request_context():
        assert understood(text) == command, text


@pytest.mark.parametrize("language", ["fr", "en"])
def test_no_phrase_means_two_commands(app, language):
    """A phrase of one table is in no other table of the same language (or it would depend on the order)."""
    from flask_babel import force_locale
    with app.test_request_context():
        vocabulary = Vocabulary.read()
        for phrase, found in vocabulary.commands.items():
            clashing = [name for name, languages in found.items() if language in languages]
            assert len(clashing) <= 1, (phrase, clashing)
        with force_locale(language):
            for phrases in (*PHRASES.values(), *SWITCHES.values()):
                assert phrases.table().strip()


def test_no_relais_phrase_is_one_of_twilios_words(app):
    from ivr.sms import TWILIO_OPT_IN, TWILIO_OPT_OUT
    with app.test_request_context():
        vocabulary = Vocabulary.read()
        alone = {p[0] for p in vocabulary.commands if len(p) == 1}
        assert not alone & (TWILIO_OPT_OUT | TWILIO_OPT_IN)


def test_the_date_of_a_confirmation_is_read_in_each_form(app):
    from datetime import date

    from app.domain.identifiers import parse_birth_date
    from ivr.sms import _confirmation, _text_of
    with app.test_request_context():
        for text in ("123456 12/03/1940", "123456 12 03 1940", "123456 12031940", "123456 12 mars 1940",
                     "123456 12 March 1940", "123456 1er mars 1940"):
            code, rest = _confirmation(_text_of(text))
            assert code == "123456"
            assert parse_birth_date(rest, date(2030, 1, 1)) in (date(1940, 3, 12), date(1940, 3, 1)), text


def test_the_words_after_a_command_are_kept(app):
    with app.test_request_context():
        assert parse("fermer supprimer")[2] == ["supprimer"]
        assert parse("retirer 2")[2] == ["2"]
