"""Counting one kind of Locust failure from its _failures.csv."""

from pathlib import Path

from loadtests.runner import failures_of
from loadtests.traffic import NOT_FOUND_FAILURE


def test_counts_only_the_named_failure(tmp_path: Path) -> None:
    csv = tmp_path / "x_failures.csv"
    csv.write_text(
        "Method,Name,Error,Occurrences,First Seen,Last Seen\n"
        "GET,GET /objects,CatchResponseError('HTTP 503'),3,a,b\n"
        f"GET,GET /objects,CatchResponseError('{NOT_FOUND_FAILURE}'),60,a,b\n"
        f"GET,GET /other,CatchResponseError('{NOT_FOUND_FAILURE}'),2,a,b\n"
    )
    assert failures_of(csv, NOT_FOUND_FAILURE) == 62
    assert failures_of(csv, "content matches no write") == 0
    assert failures_of(tmp_path / "absent.csv", NOT_FOUND_FAILURE) == 0
