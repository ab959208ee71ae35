"""The words-as-spoken count that the phone's time budgets are measured with (QUALITY §3)."""
from tests.ivr.spoken import spoken_words


def test_a_nir_in_its_printed_groups_is_said_in_thirteen_words():
    # deux / quarante / zéro trois / soixante quinze / cent douze / zéro zéro cinq / soixante sept
    assert spoken_words("2 40 03 75 112 005 67", "fr") == 13
    assert len("2 40 03 75 112 005 67".split()) == 7  # what a whitespace count says


def test_years_and_dates_count_as_their_words_in_each_language():
    assert spoken_words("le 12 mars 1940", "fr") == 7      # le douze mars mille neuf cent quarante
    assert spoken_words("on 2 January 2027", "en") == 8    # on two January two thousand and twenty seven


def test_a_reference_read_digit_by_digit_counts_one_word_a_digit():
    assert spoken_words("1 2 3, 4 5 6, 7 8 9", "fr") == 9


def test_words_with_an_apostrophe_are_one_word_each():
    assert spoken_words("Pour l'historique, tapez 3.", "fr") == 4
    assert spoken_words("don't press", "en") == 2
