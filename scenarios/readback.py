"""The scenario's objects read back straight from MinIO: the ledger's read-back
(chaos.ledger), the cleanup of the run's prefix, and the reads that queue heals."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import TYPE_CHECKING

from chaos import drive_views, ledger
from chaos.clients import abort_incomplete_uploads, http_pool, lister, object_reader, remove_prefix, s3_client
from deployer import objectnames
from kernel.errors import InfraError, WaitTimeout
from kernel.wait import Seen, wait_until
from scenarios import probes
from scenarios.stack import Stack

if TYPE_CHECKING:
    from scenarios.harness import ScenarioRun


def stored_as(stack: Stack) -> str:
    """How a key is named in the bucket (the app's contract, or the key itself)."""
    app = stack.target.app
    return app.stored_as if app is not None else objectnames.KEY


def read_back(run: ScenarioRun) -> ledger.LedgerReport:
    """Read back every key an operation changed, hold a listing of the run's
    prefix against it and classify each key (chaos.ledger); then abort the
    multipart uploads left incomplete under that prefix, and, on a stack
    chaosgate did not deploy, remove the run's objects. The report goes into
    the result; its verdict is chaos.checkers.ledger_checks'."""
    stack, result = run.stack, run.result
    client = s3_client(stack.minio_url, stack.credentials, http=http_pool(read=30))
    reader = object_reader(client, stack.bucket)
    names = lister(client, stack.bucket)
    pattern = stored_as(stack)
    head = pattern.partition(objectnames.KEY)[0]
    # Keys written through the app are stored under the name its contract
    # says; a listing shows those names, so they are mapped back to keys.
    fetch = reader if stack.target.app is None else (lambda key: reader(objectnames.object_name(pattern, key)))

    def keys(prefix: str) -> Iterator[str]:
        for name in names(head + prefix):
            key = objectnames.key_of(pattern, name)
            if key is not None:
                yield key

    writes = ledger.load(run.ledger_dir)
    with run.timeline.span("ledger.check", writes=len(writes)):
        report = ledger.check(writes, fetch, lister=keys)
    prefix = head + ((report.listing or {}).get("prefix") or objectnames.run_prefix(result.name))
    try:
        report.aborted_uploads = abort_incomplete_uploads(client, stack.bucket, prefix)
    except Exception as exc:  # noqa: BLE001 (cleanup: a failure is reported, the verdict stands on the reads)
        run.timeline.event("ledger.abort_uploads.failed", error=f"{type(exc).__name__}: {exc}"[:300])
    if stack.target.deploy is None:
        # A stack chaosgate did not deploy keeps nothing of the run but what was there.
        try:
            removed = remove_prefix(client, stack.bucket, prefix)
            result.require(True, f"{removed} object(s) the run wrote under {prefix!r} removed again", "", "cleanup")
        except Exception as exc:  # noqa: BLE001 (cleanup: reported, the verdict stands on the reads)
            run.timeline.event("ledger.cleanup.failed", error=f"{type(exc).__name__}: {exc}"[:300])
            result.inconclusive(f"could not remove the run's objects under {prefix!r}: {exc}", "cleanup")
    _drive_evidence(run, report, pattern)
    result.ledger = {**report.to_dict(), "load": run_load_shape(run)}
    if report.aborted_uploads is not None:
        result.require(
            True, f"{report.aborted_uploads} incomplete multipart upload(s) under {prefix!r} aborted at the end", ""
        )
    return report


EVIDENCE_STATES = ("resurrected", "missing_from_listing", "lost", "corrupted", "stale")
"""Ledger verdicts whose keys get their drives read: where MinIO's drives
disagree with what was acknowledged, their xl.meta shows how."""
EVIDENCE_KEYS = 20


def _drive_evidence(run: ScenarioRun, report: ledger.LedgerReport, pattern: str) -> None:
    """For the first EVIDENCE_KEYS keys the ledger found damaged: each
    drive's versions of that key, read on the node while the stack is still
    up (the next scenario may replace it), saved beside the report and
    linked from it. Best effort: a failure to read is recorded, never a verdict."""
    keys = [p.key for p in report.problems if p.verdict in EVIDENCE_STATES][:EVIDENCE_KEYS]
    if not keys:
        return
    drives, why = probes.node_drives(run.stack)
    if not drives:
        run.timeline.event("ledger.no_drive_views", reason=why)
        return
    names = {key: objectnames.object_name(pattern, key) for key in keys}
    try:
        views = drive_views.read_views(drives, run.stack.bucket, list(names.values()))
    except InfraError as exc:
        run.timeline.event("ledger.no_drive_views", reason=str(exc)[:300])
        return
    verdicts = {p.key: p.verdict for p in report.problems}
    evidence = {
        key: {"verdict": verdicts[key], "object": name, "drives": views.get(name)} for key, name in names.items()
    }
    path = run.dir / "ledger-drive-views.json"
    path.write_text(json.dumps(evidence, indent=2, sort_keys=True))
    run.result.evidence.append(str(path.relative_to(run.dir.parent)))


def run_load_shape(run: ScenarioRun) -> dict[str, str]:
    """The load's shape as the report shows it next to the ledger."""
    return {k: str(v) for k, v in run.profile.load_shape().items()}


def heal_written(run: ScenarioRun, since_wall: float, onto: str | None, timeout: float) -> tuple[int, int]:
    """Read the metadata (HEAD) of every object acknowledged since
    ``since_wall``, straight from MinIO, once every drive is back: a read that
    finds a drive without the object queues its heal (MinIO's MRF queue,
    cmd/erasure-object.go getObjectFileInfo), which MinIO does not do by
    itself for writes made while a server was away. With ``onto`` (a server
    pod, in a layout of one erasure set), wait until that server's drives hold
    every such object, reading the missing ones again. Returns how many
    objects were read, and how many were still missing on ``onto`` after
    ``timeout``."""
    stack = run.stack
    pattern = stored_as(stack)
    last: dict[str, ledger.Write] = {}
    for w in ledger.load(run.ledger_dir):
        if w.outcome == ledger.ACKED:
            last[w.key] = w
    names = sorted(
        objectnames.object_name(pattern, w.key) for w in last.values() if w.op == ledger.PUT and w.at >= since_wall
    )

    def missing_on(pod: str, batch: list[str]) -> list[str]:
        try:
            return probes.missing_on(stack, pod, batch)
        except InfraError as exc:  # no shell in the image: the question cannot be asked
            run.timeline.event("heal.check.failed", pod=pod, error=str(exc)[:300])
            return []

    with run.timeline.span("heal.read", objects=len(names), onto=onto or ""):
        present = probes.still_stored(stack, names)
        missing = missing_on(onto, present) if onto else []
        if onto and missing:
            server = onto

            def all_there() -> Seen:
                nonlocal missing
                missing = missing_on(server, probes.still_stored(stack, missing))
                return Seen(not missing, f"{len(missing)} object(s) without xl.meta on {server}")

            # What is still missing at the end is counted, not judged here.
            with contextlib.suppress(WaitTimeout):
                wait_until(all_there, what=f"every object on {server}", timeout=timeout, interval=1.0)
    if onto and missing:
        run.timeline.event("heal.incomplete", onto=onto, missing=len(missing), first=missing[:5])
    return len(names), len(missing)
