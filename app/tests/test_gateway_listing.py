"""GET /objects?prefix=: pages of keys, exactly those under the prefix, and
DELETE: 204 whether or not the key exists, then 404 on read."""

from __future__ import annotations

import secrets
from urllib.parse import quote

import pytest
from gateway_proc import RunningGateway


def _pages(gateway: RunningGateway, prefix: str, limit: int) -> list[dict[str, object]]:
    pages: list[dict[str, object]] = []
    start_after = ""
    with gateway.client() as http:
        while True:
            answer = http.get("/objects", params={"prefix": prefix, "start_after": start_after, "limit": limit})
            assert answer.status_code == 200, answer.text
            page = answer.json()
            pages.append(page)
            if not page["truncated"]:
                return pages
            start_after = str(page["next_start_after"])
            assert len(pages) < 100, "paging does not end"


def test_listing_pages_return_exactly_the_keys_under_the_prefix(gateway: RunningGateway) -> None:
    root = f"list-{secrets.token_hex(4)}"
    mine = [*(f"{root}/dir/{i:03d}" for i in range(23)), f"{root}/dir/sub/deep"]
    # Neighbours that share text with the prefix but are not under it.
    others = [f"{root}/dirt/x", f"{root}/di", f"{root}/dir-x", f"{root}x/dir/0"]
    with gateway.client() as http:
        for key in mine + others:
            assert http.put(f"/objects/{key}", content=key.encode()).status_code == 200

    pages = _pages(gateway, f"{root}/dir/", limit=10)
    assert [len(p["keys"]) for p in pages] == [10, 10, 4]  # type: ignore[arg-type]
    assert [p["truncated"] for p in pages] == [True, True, False]
    assert pages[-1]["next_start_after"] is None
    listed = [key for page in pages for key in page["keys"]]  # type: ignore[attr-defined]
    assert listed == sorted(mine)  # in key order, each once, nothing else

    # A prefix need not end at a '/': "<root>/di" also covers "<root>/dir" and "<root>/dirt/x".
    everything = [k for p in _pages(gateway, f"{root}/di", limit=1000) for k in p["keys"]]  # type: ignore[attr-defined]
    assert everything == sorted([*mine, f"{root}/di", f"{root}/dir-x", f"{root}/dirt/x"])


def test_a_key_that_is_also_a_folder_hides_its_children_from_listings(gateway: RunningGateway) -> None:
    # MinIO's behaviour, pinned because the README warns about it: it stores
    # both "k" and "k/child", reads both, but lists only "k".
    root = f"conflict-{secrets.token_hex(4)}"
    with gateway.client() as http:
        assert http.put(f"/objects/{root}/k/child", content=b"child").status_code == 200
        assert http.put(f"/objects/{root}/k", content=b"parent").status_code == 200
        assert http.get(f"/objects/{root}/k/child").content == b"child"
        assert http.get("/objects", params={"prefix": f"{root}/"}).json()["keys"] == [f"{root}/k"]
        assert http.get("/objects", params={"prefix": f"{root}/k/"}).json()["keys"] == []


def test_start_after_and_empty_results(gateway: RunningGateway) -> None:
    root = f"after-{secrets.token_hex(4)}"
    with gateway.client() as http:
        for name in ("a", "b", "c"):
            assert http.put(f"/objects/{root}/{name}", content=b"x").status_code == 200
        page = http.get("/objects", params={"prefix": f"{root}/", "start_after": f"{root}/a"}).json()
        assert page == {
            "prefix": f"{root}/",
            "keys": [f"{root}/b", f"{root}/c"],
            "truncated": False,
            "next_start_after": None,
        }
        assert http.get("/objects", params={"prefix": f"{root}/none/"}).json()["keys"] == []
        one = http.get("/objects", params={"prefix": f"{root}/", "limit": 1}).json()
        assert one["keys"] == [f"{root}/a"]
        assert one["truncated"] is True
        assert one["next_start_after"] == f"{root}/a"


@pytest.mark.parametrize(
    ("query", "error", "rule"),
    [
        ("limit=0", "bad_limit", None),
        ("limit=1001", "bad_limit", None),
        ("limit=ten", "bad_limit", None),
        ("prefix=a//", "bad_prefix", "empty_segment"),
        ("prefix=%2Fa", "bad_prefix", "empty_segment"),
        ("prefix=a/../", "bad_prefix", "dot_segment"),
        ("prefix=a%01", "bad_prefix", "control_character"),
        ("prefix=" + quote("x" * 1025), "bad_prefix", "too_long"),
        ("start_after=a%0A", "bad_start_after", "control_character"),
    ],
)
def test_bad_listing_parameters_answer_400(gateway: RunningGateway, query: str, error: str, rule: str | None) -> None:
    with gateway.client() as http:
        answer = http.get(f"/objects?{query}")
    assert answer.status_code == 400
    assert answer.json()["error"] == error
    assert answer.json().get("rule") == rule


def test_delete_then_get_is_404_and_deleting_a_missing_key_is_204(gateway: RunningGateway) -> None:
    key = f"del-{secrets.token_hex(4)}/obj"
    with gateway.client() as http:
        assert http.put(f"/objects/{key}", content=b"gone soon").status_code == 200
        assert http.delete(f"/objects/{key}").status_code == 204
        missing = http.get(f"/objects/{key}")
        assert (missing.status_code, missing.json()["error"]) == (404, "not_found")
        assert http.head(f"/objects/{key}").status_code == 404
        assert http.delete(f"/objects/{key}").status_code == 204  # again: still 204, as in S3
        assert http.get("/objects", params={"prefix": key}).json()["keys"] == []
        refused = http.delete("/objects/a%5Cb")
        assert (refused.status_code, refused.json()["rule"]) == (400, "backslash")
