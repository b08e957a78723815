"""Runbook: deletes that must stay deleted after an interrupted overwrite.

Round after round on one cluster: write small keys through the app; then
overwrite each, straight to one of as many servers as parity, with its
commit refused on those servers' drives (what servers dying between writing
data and committing it leave): MinIO answers 503 and undoes the commit
where it landed. Then, with one of
those servers down (within write quorum), delete every key through the app;
bring the server back and HEAD, GET and list every key whose delete was
acknowledged. A key that reads back is resurrected; one that some listings
show and others not is flapping.

In an unversioned bucket the undo removes the acknowledged version from the
drives the commit reached, so the delete finds "not found" at read quorum,
answers 204 and deletes nothing (docs/findings/delete-resurrection.md). The
reference stack versions its bucket and must keep every delete; the
unversioned variant is the negative control and must be caught.

In the same window more keys are deleted through the app: each delete
marker reaches only the drives that take writes, MinIO answers an error and
the marker stays there. With data drives equal to parity that is a read
quorum of its own, so until a heal the key answers 200 and 404 by turns and
listings drop it. A refused delete allows present or absent, not both: every
such key is read and listed several times after recovery, and one that
answers both ways is *split*. The reference stack's gateway heals each key
whose write MinIO refused; the `unrepaired` variant turns that off and is
the negative control that must be caught.

When a key comes back, each drive's view of it (its xl.meta versions, read
on the node) at the delete and after recovery, and MinIO's drive states at
the delete, are saved as evidence beside the report.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from minio import Minio

from chaos import commitfault, deletes, drive_views, faults
from chaos.clients import http_pool, s3_client
from chaos.diskfaults import Drive
from chaos.ledger import LedgerWriter
from chaos.minio_health import ProbeError, admin_info
from chaos.settings import Settings
from deployer.forward import PodForwards
from kernel.wait import wait_until
from scenarios import probes
from scenarios.harness import NotApplicable, ScenarioRun

pytestmark = [pytest.mark.chaos, pytest.mark.resurrection]

KEYS_PER_ROUND = 40
"""Keys per round: a few seconds of requests per phase, and enough that a
rate shows as a count rather than a coin toss."""

HELD_PER_ROUND = 20
"""Keys per round deleted through the app while their delete marker's
commit is refused: MinIO answers an error and the marker stays on the
drives it reached."""

NOTHING, RESURRECTED, SPLIT = "nothing", "resurrected", "split"
"""What a run must find: nothing (the reference stack), acknowledged deletes
that came back, or refused deletes left split between present and absent."""


def resurrection(scenario: ScenarioRun, rounds: int, *, expect: str = NOTHING) -> None:
    stack = scenario.stack
    app = stack.target.app
    if app is None or not app.delete_path:
        raise NotApplicable(f"target {stack.target.name} has no app that deletes (app.delete)")
    refusing = _refusing_servers(scenario)
    statefulset = stack.statefulsets[0]
    drives = {d.pod: d for d in _drives(scenario)}
    if any(pod not in drives for pod in refusing):
        raise NotApplicable(f"the drives of {refusing} are not node directories (kind's local-path volumes)")
    refusing_drives = [drives[pod] for pod in refusing]
    s3 = s3_client(stack.minio_url, stack.credentials, http=http_pool(read=30))
    evidence: dict[str, Any] = {"refusing": refusing, "down": refusing[-1], "rounds": []}
    found: list[deletes.Round] = []
    held_rounds: list[deletes.Round] = []
    with LedgerWriter(scenario.ledger_dir / "deletes.jsonl") as ledger:
        client = deletes.AppClient(stack.app_url, app, http_pool(read=15), ledger)
        for index in range(rounds):
            rnd = deletes.Round(index, [f"{scenario.result.name}/r{index}/k{i:03d}" for i in range(KEYS_PER_ROUND)])
            held = deletes.Round(index, [f"{scenario.result.name}/r{index}/d{i:03d}" for i in range(HELD_PER_ROUND)])
            deletes.write_first(client, rnd)
            deletes.write_first(client, held)
            names = [app.object_name(k) for k in rnd.first]
            held_names = [app.object_name(k) for k in held.first]
            with (
                scenario.fault("commit-refused", round=index, drives=refusing),
                _direct(scenario, refusing[0]) as direct,
            ):
                scenario.record_proof(
                    commitfault.refuse(refusing_drives, stack.bucket, names + held_names, rollbacks=scenario.rollbacks)
                )
                deletes.overwrite(deletes.DirectClient(direct, stack.bucket, app.object_name, ledger), rnd)
                # Through the app, as a user deletes: each marker reaches only
                # the drives that do not refuse, short of write quorum.
                deletes.delete(client, held)
                commitfault.allow(refusing_drives, rollbacks=scenario.rollbacks)
            with scenario.fault("server-down", round=index, server=refusing[-1]):
                scenario.record_proof(
                    faults.take_down_servers(stack.kube, stack.namespace, statefulset, 1, rollbacks=scenario.rollbacks)
                )
                snapshot = _snapshot(scenario, list(drives.values()), names)
                deletes.delete(client, rnd)
                faults.restore_servers(stack.kube, stack.namespace, statefulset, rollbacks=scenario.rollbacks)
            healed = scenario.wait_rejoined(time.time(), scenario.slo.healed_max_s)
            deletes.read_back(s3, stack.bucket, app.object_name, rnd)
            deletes.read_refused(s3, stack.bucket, app.object_name, held)
            row = rnd.to_dict() | {"healed_s": healed, "refused_deletes": held.to_dict()}
            if rnd.unanswered or held.unanswered:
                row["locks_when_unanswered"] = probes.held_locks(stack)
            if rnd.resurrected or rnd.flapping:
                row["evidence"] = _evidence(scenario, list(drives.values()), rnd, snapshot)
            if held.split:
                split_names = [app.object_name(k) for k in held.split]
                row["split_drives_after_recovery"] = (
                    drive_views.read_views(list(drives.values()), stack.bucket, split_names) if drives else {}
                )
            evidence["rounds"].append(row)
            found.append(rnd)
            held_rounds.append(held)
            scenario.timeline.event(
                "deletes.round",
                round=index,
                acked=len(rnd.acked_deletes),
                resurrected=len(rnd.resurrected),
                refused=len(held.refused_deletes),
                split=len(held.split),
            )
    _judge(scenario, found, held_rounds, evidence, expect=expect)


@contextmanager
def _direct(scenario: ScenarioRun, pod: str) -> Iterator[Minio]:
    """An S3 client for one MinIO server, through a port-forward to its pod."""
    stack = scenario.stack
    with PodForwards(stack.env.kubectl(), stack.namespace, stack.target.minio.pod_port) as forwards:

        def forwarded() -> str | None:
            return forwards.urls([pod])[pod]

        address = wait_until(forwarded, what=f"a port-forward to {pod}", timeout=60)
        yield s3_client(address, stack.credentials, http=http_pool(read=15))


def _refusing_servers(scenario: ScenarioRun) -> list[str]:
    """The servers whose drives refuse the commit: the last ``parity`` of the
    StatefulSet. With data drives == parity (4 drives at EC:2, 8 at EC:4,
    MinIO's defaults) write quorum is parity + 1, so a commit refused on
    parity drives is refused, and the acknowledged version that the undo
    leaves on those drives ties with "not found" on the others: the shape
    in which a delete finds nothing. Other layouts cannot tie."""
    shape = scenario.stack.topology
    if shape.pools != 1 or shape.drives != shape.servers or shape.drives_per_set != shape.drives:
        raise NotApplicable(f"needs one pool, one erasure set and one drive per server ({shape})")
    if shape.drives_per_set - shape.parity != shape.parity:
        raise NotApplicable(f"needs data drives == parity for a read tie ({shape})")
    name = scenario.stack.statefulsets[0]
    return [f"{name}-{i}" for i in range(shape.servers - shape.parity, shape.servers)]


def _drives(scenario: ScenarioRun) -> list[Drive]:
    drives, why = probes.node_drives(scenario.stack)
    if why:
        scenario.timeline.event("deletes.no_drive_views", reason=why)
    return drives


def _snapshot(scenario: ScenarioRun, drives: list[Drive], names: list[str]) -> dict[str, Any]:
    """Just before the deletes: MinIO's drive states and every drive's view of every key."""
    stack = scenario.stack
    out: dict[str, Any] = {"at": time.time()}
    try:
        info = admin_info(stack.minio_url, stack.credentials)
        out["drives"] = [{"endpoint": d.endpoint, "state": d.state} for d in info.drives]
    except ProbeError as exc:
        out["drives"] = f"admin info not read: {exc}"
    out["views"] = drive_views.read_views(drives, stack.bucket, names) if drives else {}
    return out


def _evidence(
    scenario: ScenarioRun, drives: list[Drive], rnd: deletes.Round, snapshot: dict[str, Any]
) -> dict[str, Any]:
    app = scenario.stack.target.app
    assert app is not None
    keys = sorted(set(rnd.resurrected) | {k for k in rnd.acked_deletes if app.object_name(k) in rnd.flapping})
    names = [app.object_name(k) for k in keys]
    after = drive_views.read_views(drives, scenario.stack.bucket, names) if drives else {}
    views = snapshot.get("views", {})
    return {
        "drive_states_at_delete": snapshot.get("drives"),
        "keys": {
            key: {
                "came_back_as": rnd.resurrected.get(key, "flapping"),
                "overwrite": rnd.overwrites.get(key),
                "delete": rnd.deletes.get(key),
                "drives_at_delete": views.get(name),
                "holders_at_delete": drive_views.holders(views.get(name, {})),
                "drives_after_recovery": after.get(name),
            }
            for key, name in zip(keys, names, strict=True)
        },
    }


def _judge(
    scenario: ScenarioRun,
    rounds: list[deletes.Round],
    held_rounds: list[deletes.Round],
    evidence: dict[str, Any],
    *,
    expect: str,
) -> None:
    acked = sum(len(r.acked_deletes) for r in rounds)
    resurrected = sum(len(r.resurrected) for r in rounds)
    flapping = sum(len(r.flapping) for r in rounds)
    refused_deletes = sum(len(r.refused_deletes) for r in held_rounds)
    split = sum(len(r.split) for r in held_rounds)
    path = scenario.dir / "resurrection-evidence.json"
    path.write_text(json.dumps(evidence, indent=2, sort_keys=True))
    scenario.result.evidence.append(str(path.relative_to(scenario.dir.parent)))
    rate = round(resurrected / acked, 4) if acked else None
    scenario.result.measurements["rounds"] = len(rounds)
    scenario.result.measurements["acknowledged_deletes"] = acked
    scenario.result.measurements["resurrection_rate"] = rate
    scenario.result.measurements["rounds_with_resurrection"] = sum(1 for r in rounds if r.resurrected)
    scenario.result.measurements["refused_deletes"] = refused_deletes
    refused = sum(1 for r in rounds for outcome in r.overwrites.values() if outcome != "acked")
    scenario.result.measurements["overwrites_refused"] = refused
    if refused == 0:
        scenario.result.inconclusive("no overwrite was refused: the refused commit never happened, nothing was tested")
    if acked == 0:
        scenario.result.inconclusive("no delete was acknowledged: there was nothing that could come back")
    if refused_deletes == 0:
        scenario.result.inconclusive("no delete was refused: no delete marker was left short of quorum")
    unanswered = deletes.unanswered_reason([*rounds, *held_rounds])
    if unanswered:
        scenario.result.inconclusive(unanswered)
    if expect == NOTHING:
        scenario.measure("resurrected_deletes", resurrected, 0, unit="")
        scenario.measure("flapping_listings", flapping, 0, unit="")
        scenario.measure("split_after_refused_delete", split, 0, unit="")
    else:
        # A negative control passes only when the checker catches its stack.
        caught, of, what = (
            (resurrected, acked, "acknowledged deletes came back")
            if expect == RESURRECTED
            else (split, refused_deletes, "refused deletes were left split")
        )
        scenario.result.require(
            caught > 0,
            f"the checker caught the known-bad stack: {caught} of {of} {what}",
            f"none of {of} {what} in {len(rounds)} rounds, on a stack that must show it",
        )
        scenario.measure("resurrected_deletes", resurrected, unit="")
        scenario.measure("split_after_refused_delete", split, unit="")
    scenario.check_ledger(expect_loss=expect != NOTHING)


@pytest.mark.scenario("delete-resurrection", title="Deletes after an interrupted overwrite stay deleted", extended=True)
def test_acknowledged_deletes_stay_deleted(scenario: ScenarioRun, settings: Settings) -> None:
    resurrection(scenario, settings.resurrection_rounds)


@pytest.mark.variant("unversioned")
@pytest.mark.scenario(
    "negative-unversioned", title="Negative control: an unversioned bucket brings deletes back", extended=True
)
def test_unversioned_bucket_resurrects_deletes_and_is_caught(scenario: ScenarioRun, settings: Settings) -> None:
    resurrection(scenario, settings.resurrection_rounds, expect=RESURRECTED)


@pytest.mark.variant("unrepaired")
@pytest.mark.scenario(
    "negative-unrepaired", title="Negative control: an app that leaves refused deletes split", extended=True
)
def test_unrepaired_gateway_leaves_refused_deletes_split_and_is_caught(
    scenario: ScenarioRun, settings: Settings
) -> None:
    resurrection(scenario, settings.resurrection_rounds, expect=SPLIT)
