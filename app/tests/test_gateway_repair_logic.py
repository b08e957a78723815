"""When the gateway's repair tries a refused key again, gives it up, or stops
(gateway.repair), with the heal and MinIO's health as plain stand-ins: the
heal itself runs against real MinIO in test_gateway_repair.py."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from gateway.admin import AdminFailed, AdminRefused
from gateway.config import Settings
from gateway.metrics import GatewayMetrics
from gateway.repair import BACKOFF_MAX, Repairs
from gateway.storage import ClusterHealth

SETTINGS = Settings(minio_url="http://127.0.0.1:1", access_key="a", secret_key="s", repair_max_age=100.0)


@dataclass
class Health:
    ok: bool = True

    def cluster_health(self) -> ClusterHealth:
        return ClusterHealth(200 if self.ok else 503, 3)


@dataclass
class Heals:
    answers: dict[str, list[Exception | None]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    def __call__(self, key: str) -> None:
        self.calls.append(key)
        answers = self.answers.get(key) or [None]
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if answer is not None:
            raise answer


def _repairs(heals: Heals, health: Health | None = None, **settings: object) -> tuple[Repairs, GatewayMetrics]:
    metrics = GatewayMetrics()
    merged = Settings(**{**SETTINGS.__dict__, **settings})
    return Repairs(merged, health or Health(), metrics, heal=heals), metrics  # type: ignore[arg-type]


def _count(metrics: GatewayMetrics, outcome: str) -> float:
    return metrics.repairs.labels(outcome)._value.get()


def test_nothing_is_healed_while_minio_lacks_write_quorum() -> None:
    heals, health = Heals(), Health(ok=False)
    repairs, _ = _repairs(heals, health)
    repairs.note("k")
    now = repairs._pending["k"].since
    assert repairs.run_once(now=now) == 0 and heals.calls == []
    health.ok = True
    assert repairs.run_once(now=now) == 1 and repairs.pending() == []


def test_a_failed_heal_is_tried_again_later_and_later() -> None:
    heals = Heals({"k": [AdminFailed("busy"), AdminFailed("busy"), None]})
    repairs, metrics = _repairs(heals)
    repairs.note("k")
    start = repairs._pending["k"].since
    assert repairs.run_once(now=start) == 0
    assert repairs.run_once(now=start + 1.0) == 0 and heals.calls == ["k"]  # not due: 2 s after the try
    assert repairs.run_once(now=start + 2.0) == 0 and heals.calls == ["k", "k"]
    assert repairs._pending["k"].due == start + 2.0 + 4.0
    assert repairs.run_once(now=start + 6.0) == 1 and _count(metrics, "healed") == 1


def test_the_delay_between_tries_is_bounded() -> None:
    heals = Heals({"k": [AdminFailed("busy")]})
    repairs, _ = _repairs(heals, repair_max_age=10_000.0)
    repairs.note("k")
    now = repairs._pending["k"].since
    for _ in range(12):
        repairs.run_once(now=now)
        now = repairs._pending["k"].due
    assert repairs._pending["k"].due - now <= BACKOFF_MAX


def test_a_key_not_healed_in_time_is_abandoned_and_counted() -> None:
    heals = Heals({"k": [AdminFailed("busy")]})
    repairs, metrics = _repairs(heals)
    repairs.note("k")
    since = repairs._pending["k"].since
    repairs.run_once(now=since + SETTINGS.repair_max_age + 1)
    assert repairs.pending() == [] and _count(metrics, "abandoned") == 1


def test_minio_refusing_the_heal_turns_repair_off_once() -> None:
    # Heals run in parallel: every key in this pass may be tried once, none again.
    heals = Heals({key: [AdminRefused("403")] for key in ("a", "b", "c")})
    repairs, metrics = _repairs(heals)
    for key in ("a", "b", "c"):
        repairs.note(key)
    repairs.run_once(now=repairs._pending["c"].since)
    assert 1 <= len(heals.calls) <= 3 and not repairs.enabled
    assert repairs.pending() == [] and _count(metrics, "abandoned") == 3
    repairs.run_once(now=0.0)
    assert len(heals.calls) <= 3
    repairs.note("d")
    assert repairs.pending() == []


def test_past_the_limit_keys_are_dropped_and_counted() -> None:
    repairs, metrics = _repairs(Heals(), repair_max_keys=2)
    for key in ("a", "b", "c", "a"):
        repairs.note(key)
    assert repairs.pending() == ["a", "b"] and _count(metrics, "dropped") == 1


def test_repair_off_notes_nothing() -> None:
    repairs, _ = _repairs(Heals(), repair_refused_writes=False)
    repairs.note("a")
    assert repairs.pending() == []


def test_waiting_keys_are_healed_side_by_side() -> None:
    # Each heal waits for a second one to be under way: one after another,
    # every heal would time out at the barrier and none would succeed.
    barrier = threading.Barrier(2, timeout=5)

    def heal(key: str) -> None:
        barrier.wait()

    metrics = GatewayMetrics()
    repairs = Repairs(SETTINGS, Health(), metrics, heal=heal)  # type: ignore[arg-type]
    for key in ("a", "b", "c", "d"):
        repairs.note(key)
    assert repairs.run_once(now=repairs._pending["d"].since) == 4
    assert repairs.pending() == []
