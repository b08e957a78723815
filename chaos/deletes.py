"""Deletes that must stay deleted: exact operations and the read-back after.

The targeted check of docs/findings/delete-resurrection.md. Each round
writes small keys, then, with write quorum gone, overwrites them (refused:
MinIO undoes the overwrite on the drives it reached) and deletes them. A
delete MinIO acknowledges must hold: after recovery each such key is asked
for with HEAD and GET, and the bucket listed several times. A key that
answers with content is *resurrected* (and which version came back, the
first or the refused overwrite); a key that some listings show and others do
not is *flapping*.

Every operation is recorded in the scenario's write ledger, so the ordinary
ledger check judges the same keys by the same rules as every other scenario.
"""

from __future__ import annotations

import hashlib
import io
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from minio import Minio
from minio.error import S3Error, ServerError
from urllib3 import PoolManager
from urllib3.exceptions import HTTPError

from chaos.clients import object_reader
from chaos.ledger import DELETE, PUT, LedgerWriter, StoreRefused, Write, outcome_of_status
from chaos.ledger.records import ACKED, INDETERMINATE
from deployer.target import AppSpec

LISTINGS = 3
"""Listings per round after recovery: one can be served by drives that
agree by chance; disagreement between listings is the flapping class."""

SMALL_BYTES = 4096
"""Inlined into xl.meta (MinIO inlines shards up to 128 KiB): the size class
whose failed overwrite takes the previous version with it when undone."""


@dataclass(frozen=True)
class Answer:
    outcome: str
    status: int | None
    latency_ms: float
    detail: str = ""


@dataclass
class Round:
    """What one round did and found."""

    index: int
    keys: list[str]
    first: dict[str, str] = field(default_factory=dict)
    """Key -> sha256 of the first, acknowledged version."""
    second: dict[str, str] = field(default_factory=dict)
    """Key -> sha256 of the overwrite sent without write quorum."""
    overwrites: dict[str, str] = field(default_factory=dict)
    """Key -> the overwrite's outcome."""
    deletes: dict[str, str] = field(default_factory=dict)
    """Key -> the delete's outcome."""
    resurrected: dict[str, str] = field(default_factory=dict)
    """Key -> what came back after an acknowledged delete: the content of the
    first or of the refused second write (or other bytes) in a GET; "head"
    when only HEAD found it; "listed" when only the listings showed it."""
    flapping: list[str] = field(default_factory=list)
    listed: list[int] = field(default_factory=list)
    """How many of the acknowledged-deleted keys each listing showed."""
    answers: dict[str, list[str]] = field(default_factory=dict)
    """Key whose delete was refused -> every answer read_refused saw for it."""
    unanswered: list[str] = field(default_factory=list)
    """Keys MinIO gave no answer for after recovery (a read timed out or the
    connection failed, on every try): not judged, and the round cannot pass."""

    @property
    def acked_deletes(self) -> list[str]:
        return [k for k, outcome in self.deletes.items() if outcome == ACKED]

    @property
    def refused_deletes(self) -> list[str]:
        return [k for k, outcome in self.deletes.items() if outcome != ACKED]

    @property
    def split(self) -> list[str]:
        """Refused-delete keys that did not read one way: present (the first
        content, listed) or absent (404, unlisted) are what a refused delete
        allows; a mix of the two, or other content, is neither."""
        return sorted(k for k, seen in self.answers.items() if not consistent(set(seen)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "round": self.index,
            "keys": len(self.keys),
            "overwrites": _count(self.overwrites.values()),
            "deletes": _count(self.deletes.values()),
            "acknowledged_deletes": len(self.acked_deletes),
            "resurrected": dict(sorted(self.resurrected.items())),
            "flapping": sorted(self.flapping),
            "listed_after_delete": self.listed,
            "refused_deletes": len(self.refused_deletes),
            "split": {k: sorted(set(self.answers[k])) for k in self.split},
            "unanswered": sorted(self.unanswered),
        }


def _count(outcomes: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


class AppClient:
    """PUT and DELETE through the target's app, once each, recorded in the ledger."""

    def __init__(self, base_url: str, app: AppSpec, http: PoolManager, ledger: LedgerWriter) -> None:
        self.base_url = base_url.rstrip("/")
        self.app = app
        self.http = http
        self.ledger = ledger

    def _call(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> Answer:
        started = time.monotonic()
        try:
            response = self.http.request(method, self.base_url + path, body=body, headers=headers)
        except HTTPError as exc:
            return Answer(INDETERMINATE, None, (time.monotonic() - started) * 1000, type(exc).__name__)
        latency = (time.monotonic() - started) * 1000
        if 200 <= response.status < 300:
            return Answer(ACKED, response.status, latency)
        return Answer(outcome_of_status(response.status), response.status, latency, f"HTTP {response.status}")

    def put(self, key: str, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        headers = {"Content-Type": "application/octet-stream"}
        if self.app.digest_header:
            headers[self.app.digest_header] = digest
        answer = self._call(self.app.write_method, self.app.write_path.replace("{key}", key), data, headers)
        if answer.outcome == ACKED and answer.status not in self.app.ack_status:
            answer = Answer(INDETERMINATE, answer.status, answer.latency_ms, f"HTTP {answer.status} is no ack")
        self._record(key, len(data), digest, answer, PUT)
        return answer.outcome

    def delete(self, key: str) -> str:
        answer = self._call("DELETE", self.app.delete_path.replace("{key}", key), None, {})
        self._record(key, 0, "", answer, DELETE)
        return answer.outcome

    def _record(self, key: str, size: int, digest: str, answer: Answer, op: str) -> None:
        self.ledger.record(
            Write(
                key=key,
                size=size,
                sha256=digest,
                outcome=answer.outcome,
                at=time.time(),
                path="app",
                latency_ms=round(answer.latency_ms, 1),
                detail=answer.detail,
                op=op,
                size_class="small",
            )
        )


class DirectClient:
    """PUT straight to one MinIO server (S3, once, recorded in the ledger):
    the overwrite of the commit-refused fault goes to a server whose own
    drive refuses, so every drive the commit reaches is remote to it. A
    server undoes a failed commit on its own drive by restoring the previous
    xl.meta, but on a remote drive by deleting it, so which server takes the
    PUT decides how many drives keep the acknowledged version; through a
    Service that would be left to chance."""

    def __init__(self, s3: Minio, bucket: str, object_name: Callable[[str], str], ledger: LedgerWriter) -> None:
        self.s3 = s3
        self.bucket = bucket
        self.object_name = object_name
        self.ledger = ledger

    def put(self, key: str, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        started = time.monotonic()
        try:
            self.s3.put_object(self.bucket, self.object_name(key), io.BytesIO(data), len(data))
            answer = Answer(ACKED, 200, 0.0)
        except S3Error as exc:
            status = exc.response.status if exc.response is not None else 500
            answer = Answer(outcome_of_status(status), status, 0.0, f"{exc.code}")
        except (ServerError, HTTPError) as exc:
            answer = Answer(INDETERMINATE, None, 0.0, type(exc).__name__)
        latency = (time.monotonic() - started) * 1000
        self.ledger.record(
            Write(
                key=key,
                size=len(data),
                sha256=digest,
                outcome=answer.outcome,
                at=time.time(),
                path="s3",
                latency_ms=round(latency, 1),
                detail=answer.detail,
                op=PUT,
                size_class="small",
            )
        )
        return answer.outcome


def payload() -> bytes:
    return secrets.token_bytes(SMALL_BYTES)


def write_first(client: AppClient, rnd: Round) -> None:
    for key in rnd.keys:
        data = payload()
        if client.put(key, data) == ACKED:
            rnd.first[key] = hashlib.sha256(data).hexdigest()


def overwrite(client: AppClient | DirectClient, rnd: Round) -> None:
    """Overwrite every acknowledged key once (without write quorum: refused)."""
    for key in list(rnd.first):
        data = payload()
        rnd.second[key] = hashlib.sha256(data).hexdigest()
        rnd.overwrites[key] = client.put(key, data)


def delete(client: AppClient, rnd: Round) -> None:
    for key in list(rnd.first):
        rnd.deletes[key] = client.delete(key)


NO_ANSWER_TRIES = 3
"""Reads of a key that MinIO does not answer, a pause apart, before the key
counts as unanswered: seen once on kind, a GET of a key being healed waited
past the 30 s read timeout."""

NO_ANSWER_PAUSE_S = 10.0


def patiently(keys: list[str], ask: Callable[[str], None], rnd: Round) -> None:
    """``ask`` about each key; a key MinIO does not answer (urllib3 timeout or
    connection error) is asked again after the others, up to NO_ANSWER_TRIES
    times in all, NO_ANSWER_PAUSE_S apart; still silent, it lands in
    ``rnd.unanswered``. ``ask`` records its own answers."""
    waiting = list(keys)
    for attempt in range(NO_ANSWER_TRIES):
        if attempt:
            time.sleep(NO_ANSWER_PAUSE_S)
        silent = []
        for key in waiting:
            try:
                ask(key)
            except HTTPError:
                silent.append(key)
        waiting = silent
        if not waiting:
            return
    rnd.unanswered.extend(k for k in waiting if k not in rnd.unanswered)


def unanswered_reason(rounds: list[Round]) -> str | None:
    """Why rounds whose keys MinIO did not answer cannot be judged, or None."""
    keys = sorted(k for r in rounds for k in r.unanswered)
    if not keys:
        return None
    return (
        f"{len(keys)} key(s) got no answer from MinIO after recovery, {NO_ANSWER_TRIES} tries each "
        f"(held locks in the evidence): {keys[:5]}"
    )


def read_back(s3: Minio, bucket: str, object_name: Callable[[str], str], rnd: Round) -> None:
    """HEAD and GET every key whose delete was acknowledged; list LISTINGS times."""
    read = object_reader(s3, bucket)

    def ask(key: str) -> None:
        name = object_name(key)
        head = _head(s3, bucket, name)
        got = read(name)
        if got is None:
            # GET and HEAD can disagree right after a tie: each asks the drives anew.
            if head is not None:
                rnd.resurrected[key] = "head"
            return
        if got[0] == rnd.first.get(key):
            rnd.resurrected[key] = "first"
        elif got[0] == rnd.second.get(key):
            rnd.resurrected[key] = "second"
        else:
            rnd.resurrected[key] = "other"

    patiently(rnd.acked_deletes, ask, rnd)
    by_name = {object_name(k): k for k in rnd.acked_deletes if k not in rnd.unanswered}
    seen: list[set[str]] = []
    for _ in range(LISTINGS):
        names = {o.object_name for o in _list(s3, bucket, _common_prefix(set(by_name))) if o.object_name in by_name}
        seen.append(names)
        rnd.listed.append(len(names))
    flapping, always = split_listings(seen)
    rnd.flapping = flapping
    for name in always:
        # Listed every time, though GET and HEAD may have found nothing.
        rnd.resurrected.setdefault(by_name[name], "listed")


READS = 6
"""GETs of each refused-delete key after recovery: with a tie on the drives
about half of them answer each way."""


def consistent(seen: set[str]) -> bool:
    return seen <= {"first", "listed"} or seen <= {"absent", "unlisted"}


def read_refused(s3: Minio, bucket: str, object_name: Callable[[str], str], rnd: Round) -> None:
    """GET every key whose delete was refused READS times and list LISTINGS
    times; each answer lands in ``rnd.answers`` ("first", "absent", "other";
    "listed", "unlisted")."""
    read = object_reader(s3, bucket)

    def ask(key: str) -> None:
        seen: list[str] = []
        for _ in range(READS):
            try:
                got = read(object_name(key))
            except StoreRefused:
                seen.append("refused")
                continue
            seen.append("absent" if got is None else "first" if got[0] == rnd.first.get(key) else "other")
        rnd.answers[key] = seen  # only a key asked to the end: a silent try leaves no half answer

    patiently(rnd.refused_deletes, ask, rnd)
    keys = [k for k in rnd.refused_deletes if k not in rnd.unanswered]
    by_name = {object_name(k): k for k in keys}
    for _ in range(LISTINGS):
        names = {o.object_name for o in _list(s3, bucket, _common_prefix(set(by_name))) if o.object_name in by_name}
        for name, key in by_name.items():
            rnd.answers[key].append("listed" if name in names else "unlisted")


def split_listings(seen: list[set[str]]) -> tuple[list[str], list[str]]:
    """Of the names any listing showed: those some listings left out
    (flapping), and those every listing showed."""
    shown = set().union(*seen) if seen else set()
    flapping = sorted(n for n in shown if any(n not in s for s in seen))
    return flapping, sorted(shown - set(flapping))


def _head(s3: Minio, bucket: str, name: str) -> str | None:
    """ "present" when HEAD finds the object, None when it answers NoSuchKey."""
    try:
        s3.stat_object(bucket, name)
    except S3Error as exc:
        if exc.code in ("NoSuchKey", "NoSuchObject"):
            return None
        raise
    return "present"


def _list(s3: Minio, bucket: str, prefix: str) -> Iterator[Any]:
    yield from s3.list_objects(bucket, prefix=prefix, recursive=True)


def _common_prefix(names: set[str]) -> str:
    if not names:
        return ""
    ordered = sorted(names)
    first, last = ordered[0], ordered[-1]
    n = 0
    while n < min(len(first), len(last)) and first[n] == last[n]:
        n += 1
    return first[:n]


@dataclass
class Churn:
    """What ``churn`` did: when the app first acknowledged a write after the
    fault, and for each key, seconds from then to its acknowledged PUT."""

    first_ack_s: float | None = None
    put_at: dict[str, float] = field(default_factory=dict)


def churn(client: AppClient, rnd: Round, prefix: str, *, window_s: float, wait_s: float) -> Churn:
    """PUT a fresh key, and DELETE it at once when the PUT was acknowledged,
    pair after pair: first until the app acknowledges a PUT (at most
    ``wait_s`` seconds), then for ``window_s`` seconds more. Every call is
    one attempt, recorded in the ledger; ``rnd`` gets the keys, first
    versions and delete outcomes."""
    started = time.monotonic()
    done = Churn()
    first_ack: float | None = None
    while True:
        now = time.monotonic()
        if first_ack is None and now - started > wait_s:
            return done
        if first_ack is not None and now - first_ack > window_s:
            return done
        key = f"{prefix}/k{len(rnd.keys):05d}"
        rnd.keys.append(key)
        data = payload()
        if client.put(key, data) != ACKED:
            time.sleep(0.2)  # MinIO or the app still down: a refused call returns at once
            continue
        if first_ack is None:
            first_ack = time.monotonic()
            done.first_ack_s = round(first_ack - started, 2)
        rnd.first[key] = hashlib.sha256(data).hexdigest()
        done.put_at[key] = round(time.monotonic() - first_ack, 2)
        rnd.deletes[key] = client.delete(key)
