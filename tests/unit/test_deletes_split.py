"""A refused delete allows present or absent, never both (chaos.deletes)."""

from chaos import deletes
from chaos.ledger.records import ACKED, FAILED, INDETERMINATE


def _round(answers: dict[str, list[str]]) -> deletes.Round:
    rnd = deletes.Round(0, list(answers))
    rnd.deletes = {key: INDETERMINATE for key in answers}
    rnd.answers = answers
    return rnd


def test_present_every_time_or_absent_every_time_is_consistent() -> None:
    rnd = _round(
        {
            "kept": ["first"] * 6 + ["listed"] * 3,
            "gone": ["absent"] * 6 + ["unlisted"] * 3,
        }
    )
    assert rnd.split == []


def test_a_key_that_answers_both_ways_or_with_other_bytes_is_split() -> None:
    rnd = _round(
        {
            "flaps": ["first", "absent", "first", "absent", "first", "first", "unlisted", "unlisted", "unlisted"],
            "found_but_unlisted": ["first"] * 6 + ["unlisted"] * 3,
            "listed_but_404": ["absent"] * 6 + ["listed", "unlisted", "listed"],
            "other_bytes": ["other"] * 6 + ["listed"] * 3,
            "refused_read": ["refused"] + ["first"] * 5 + ["listed"] * 3,
            "fine": ["first"] * 6 + ["listed"] * 3,
        }
    )
    assert rnd.split == ["flaps", "found_but_unlisted", "listed_but_404", "other_bytes", "refused_read"]
    assert rnd.to_dict()["split"]["found_but_unlisted"] == ["first", "unlisted"]


def test_only_deletes_not_acknowledged_are_refused_deletes() -> None:
    rnd = deletes.Round(0, ["a", "b", "c"])
    rnd.deletes = {"a": ACKED, "b": FAILED, "c": INDETERMINATE}
    assert rnd.refused_deletes == ["b", "c"]
    assert rnd.acked_deletes == ["a"]
