"""The order of customer search hits (backends/ranking.py), shared by both stores: what an
operator typed matches names with or without accents, a whole word beats a prefix, and the
fuller profile beats a sparse one."""

from __future__ import annotations

from backends.ranking import Ranking, fold


def test_words_are_folded_alike_with_or_without_accents() -> None:
    assert fold("Nicolò D'Amico_2") == ["nicolo", "d", "amico_2"]
    assert fold("NICOLO d'amico_2") == ["nicolo", "d", "amico_2"]
    assert fold("Ærø ﬁle") == fold("ærø ﬁle") and fold("") == []


def test_an_accented_name_matches_what_was_typed_without_accents() -> None:
    key = Ranking("nicolo").key
    accented = key(("Nicolò Rossi", "", "", ""), 0.0, 1)
    plain = key(("Nicolo Rossi", "", "", ""), 0.0, 2)
    assert accented[:2] == plain[:2] == (-10.0, 0)


def test_a_whole_word_beats_a_prefix_and_a_name_beats_an_email() -> None:
    key = Ranking("ross").key
    rows = {
        "whole word in the name": ("Ross Geller", "", "", ""),
        "prefix in the name": ("Mario Rossi", "", "", ""),
        "whole word in the e-mail": ("Mario Bianchi", "ross@example.com", "", ""),
        "no match": ("Mario Bianchi", "mb@example.com", "", ""),
    }
    order = sorted(rows, key=lambda name: key(rows[name], 0.0, 0))
    assert order == list(rows)


def test_among_equal_matches_the_fuller_profile_comes_first_then_the_score() -> None:
    key = Ranking("rossi").key
    sparse = key(("Anna Rossi", "", "", ""), -0.9, 1)
    full = key(("Anna Rossi", "anna@example.com", "3471110001", "VS-1"), -0.1, 2)
    same_but_better_score = key(("Anna Rossi", "anna@example.com", "3471110002", "VS-2"), -0.2, 3)
    assert sorted([sparse, full, same_but_better_score]) == [same_but_better_score, full, sparse]
