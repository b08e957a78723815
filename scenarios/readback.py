"""The scenario's objects read back straight from MinIO: the ledger's read-back
(chaos.ledger), the cleanup of the run's prefix, and the reads that queue heals."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from chaos import ledger
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
    result.ledger = {**report.to_dict(), "load": run_load_shape(run)}
    if report.aborted_uploads is not None:
        result.require(
            True, f"{report.aborted_uploads} incomplete multipart upload(s) under {prefix!r} aborted at the end", ""
        )
    return report


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
