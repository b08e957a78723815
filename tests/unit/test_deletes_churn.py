"""chaos.deletes.churn: PUT-then-DELETE pairs from the first acknowledged
write after a fault, bounded in time both before and after it."""

from __future__ import annotations

from typing import Any, cast

import pytest
from urllib3.exceptions import ReadTimeoutError

from chaos import deletes
from chaos.ledger.records import ACKED, FAILED


class App:
    """Refuses the first ``down`` PUTs (the stack still restarting), then
    acknowledges PUTs; refuses every ``refuse_every``-th DELETE."""

    def __init__(self, down: int, refuse_every: int = 0) -> None:
        self.down = down
        self.refuse_every = refuse_every
        self.puts: list[str] = []
        self.deleted: list[str] = []

    def put(self, key: str, data: bytes) -> str:
        self.puts.append(key)
        return FAILED if len(self.puts) <= self.down else ACKED

    def delete(self, key: str) -> str:
        self.deleted.append(key)
        if self.refuse_every and len(self.deleted) % self.refuse_every == 0:
            return FAILED
        return ACKED


def _churn(app: App, window_s: float, wait_s: float) -> tuple[deletes.Round, deletes.Churn]:
    rnd = deletes.Round(0, [])
    done = deletes.churn(cast(Any, app), rnd, "p", window_s=window_s, wait_s=wait_s)
    return rnd, done


def test_deletes_only_acknowledged_puts_and_only_after_the_first_ack() -> None:
    app = App(down=3, refuse_every=2)
    rnd, done = _churn(app, window_s=0.05, wait_s=30)
    assert done.first_ack_s is not None
    assert app.puts[:3] == ["p/k00000", "p/k00001", "p/k00002"]
    assert app.deleted[0] == "p/k00003"  # refused PUTs are never deleted
    assert set(rnd.first) == set(app.deleted) == set(rnd.deletes) == set(app.puts[3:])
    assert rnd.acked_deletes and rnd.refused_deletes
    assert list(done.put_at) == app.deleted
    assert all(0 <= at <= 0.05 + 0.01 for at in done.put_at.values())


def test_gives_up_when_nothing_is_acknowledged_within_the_wait() -> None:
    app = App(down=10**9)
    rnd, done = _churn(app, window_s=10, wait_s=0.3)
    assert done.first_ack_s is None
    assert rnd.first == {} and app.deleted == []
    assert 1 <= len(app.puts) <= 3  # one attempt each 0.2 s


def test_a_key_minio_does_not_answer_is_asked_again_and_then_counted_unanswered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(deletes, "NO_ANSWER_PAUSE_S", 0.0)
    tries: dict[str, int] = {}
    answered: list[str] = []

    def ask(key: str) -> None:
        tries[key] = tries.get(key, 0) + 1
        if key == "silent" or (key == "slow" and tries[key] < 2):
            raise ReadTimeoutError(cast(Any, None), "/", "Read timed out.")
        answered.append(key)

    rnd = deletes.Round(0, [])
    deletes.patiently(["fine", "slow", "silent"], ask, rnd)
    assert answered == ["fine", "slow"]
    assert tries == {"fine": 1, "slow": 2, "silent": deletes.NO_ANSWER_TRIES}
    assert rnd.unanswered == ["silent"]
    assert rnd.to_dict()["unanswered"] == ["silent"]
