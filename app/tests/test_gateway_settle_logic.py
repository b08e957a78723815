"""gateway.settle's rules without MinIO: what admin info counts as settled,
the one-second cache, and what a refused or failed admin call does. The
check itself runs against real MinIO in test_gateway_delete_settle.py."""

from __future__ import annotations

import pytest
from gateway.admin import AdminFailed, AdminRefused
from gateway.config import Settings
from gateway.settle import CACHE_S, SettleCheck, problems

SETTINGS = Settings(minio_url="http://127.0.0.1:1", access_key="a", secret_key="s", delete_settle_s=30.0)


def _server(name: str, *, uptime: object = 100, state: str = "online", drives: tuple[str, ...] = ("ok",)) -> object:
    return {
        "endpoint": name,
        "state": state,
        "uptime": uptime,
        "drives": [{"endpoint": f"{name}/d{i}", "state": s} for i, s in enumerate(drives)],
    }


def test_settled_only_when_every_server_is_up_long_enough_and_every_drive_ok() -> None:
    assert problems({"servers": [_server("a"), _server("b")]}, 30) == []
    assert problems({"servers": [_server("a"), _server("b", uptime=12)]}, 30) == ["server b up 12 s, under 30 s"]
    assert problems({"servers": [_server("a", state="offline", uptime=None)]}, 30) == ["server a is offline"]
    assert problems({"servers": [_server("a", drives=("ok", "offline"))]}, 30) == ["drive a/d1 is offline"]
    assert problems({"servers": [_server("a", uptime="soon")]}, 30) == ["server a up soon s, under 30 s"]


@pytest.mark.parametrize("info", [{}, {"servers": []}, {"servers": "none"}])
def test_an_answer_without_servers_is_never_settled(info: dict[str, object]) -> None:
    assert problems(info, 30) == ["admin info lists no servers"]


class Answers:
    def __init__(self, *answers: dict[str, object] | Exception) -> None:
        self.answers = list(answers)
        self.calls = 0

    def __call__(self) -> dict[str, object]:
        self.calls += 1
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_one_admin_call_stands_for_a_second() -> None:
    info = Answers({"servers": [_server("a", uptime=3)]}, {"servers": [_server("a")]})
    check = SettleCheck(SETTINGS, info)
    assert check.unsettled(now=100.0) == "server a up 3 s, under 30 s"
    assert check.unsettled(now=100.0 + CACHE_S / 2) == "server a up 3 s, under 30 s"
    assert info.calls == 1
    assert check.unsettled(now=100.0 + CACHE_S) is None
    assert info.calls == 2


def test_a_failed_admin_call_is_not_settled_and_a_refused_one_turns_the_check_off() -> None:
    check = SettleCheck(SETTINGS, Answers(AdminFailed("busy"), AdminRefused("403")))
    reason = check.unsettled(now=1.0)
    assert reason is not None and "busy" in reason
    assert check.unsettled(now=10.0) is None
    assert not check.enabled


@pytest.mark.parametrize(
    "settings",
    [
        Settings(minio_url="http://127.0.0.1:1", access_key="a", secret_key="s", delete_settle_s=0),
        Settings(minio_url="http://127.0.0.1:1", access_key="a", secret_key="s", bucket_versioning=False),
    ],
)
def test_off_when_asked_or_unversioned(settings: Settings) -> None:
    info = Answers()
    assert SettleCheck(settings, info).unsettled() is None
    assert info.calls == 0
