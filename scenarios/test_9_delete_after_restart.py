"""Runbook: deletes right after a full restart stay deleted.

Round after round on one cluster: delete every MinIO pod at once, then, from
the app's first acknowledged write after the restart, PUT a fresh small key
and DELETE it at once, pair after pair, for RESTART_WINDOW_S seconds. Once
the cluster has rejoined, HEAD, GET and list every key whose delete was
acknowledged. A key that reads back is resurrected.

After a restart each MinIO server connects the drives it missed at start
only every 15 s. Until then a PUT is written to the drives it sees, and a
DELETE's look-up, which skips the drives it does not see, can read "not
found" for a key that is there: MinIO answers 204, writes no delete marker,
and the key reads back once every drive is seen again
(docs/findings/delete-resurrection.md, "A look-up that misses drives"). The
reference stack's gateway answers 503 for a marker-less delete until every
server has been up GATEWAY_DELETE_SETTLE seconds.

On an idle kind cluster every server starts within a second or two of the
others and sees every drive at once: 5 rounds of the `unsettled` variant
(that check off) brought back none of 2,550 deletes. The window opens under
load, when servers start seconds apart and drives miss health probes (the
quick profile's full-outage: 3 of 16 runs before the check). So this row
guards the restart path but is no negative control; the check's own is
app/tests/test_gateway_delete_settle.py, on real MinIO.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from chaos import deletes, drive_views, faults
from chaos.clients import http_pool, s3_client
from chaos.ledger import LedgerWriter
from chaos.settings import Settings
from scenarios import probes
from scenarios.harness import NotApplicable, ScenarioRun

pytestmark = [pytest.mark.chaos, pytest.mark.resurrection]

RESTART_WINDOW_S = 45.0
"""Seconds of PUT-then-DELETE pairs after the first acknowledged write: past
MinIO's 15 s reconnect interval for servers that start late, and past the
gateway's 30 s settle time, so both sides of it are exercised."""

FIRST_ACK_WAIT_S = 300.0
"""Seconds the app may take to acknowledge a write after the restart."""

RECONNECT_S = 15.0
"""MinIO's reconnect interval (defaultMonitorConnectEndpointInterval): the
window in which the look-up can miss drives."""


def after_restart(scenario: ScenarioRun, rounds: int) -> None:
    stack = scenario.stack
    app = stack.target.app
    if app is None or not app.delete_path:
        raise NotApplicable(f"target {stack.target.name} has no app that deletes (app.delete)")
    s3 = s3_client(stack.minio_url, stack.credentials, http=http_pool(read=30))
    drives, why = probes.node_drives(stack)
    if why:
        scenario.timeline.event("deletes.no_drive_views", reason=why)
    found: list[deletes.Round] = []
    rows: list[dict[str, Any]] = []
    with LedgerWriter(scenario.ledger_dir / "deletes.jsonl") as ledger:
        client = deletes.AppClient(stack.app_url, app, http_pool(read=15), ledger)
        for index in range(rounds):
            rnd = deletes.Round(index, [])
            with scenario.fault("delete-all-minio-pods", round=index):
                t0 = time.time()
                scenario.record_proof(faults.delete_pods(stack.kube, stack.namespace, stack.minio_selector))
                churned = deletes.churn(
                    client,
                    rnd,
                    f"{scenario.result.name}/r{index}",
                    window_s=RESTART_WINDOW_S,
                    wait_s=FIRST_ACK_WAIT_S,
                )
            healed = scenario.wait_rejoined(t0, scenario.slo.healed_max_s)
            deletes.read_back(s3, stack.bucket, app.object_name, rnd)
            early = [k for k in rnd.acked_deletes if churned.put_at.get(k, RECONNECT_S) < RECONNECT_S]
            row = rnd.to_dict() | {
                "healed_s": healed,
                "first_ack_after_restart_s": churned.first_ack_s,
                "acknowledged_deletes_in_reconnect_window": len(early),
                "deletes_refused": len(rnd.refused_deletes),
            }
            if rnd.unanswered:
                row["locks_when_unanswered"] = probes.held_locks(stack)
            if rnd.resurrected and drives:
                names = [app.object_name(k) for k in rnd.resurrected]
                row["drives_after_recovery"] = drive_views.read_views(drives, stack.bucket, names)
                row["put_s_after_first_ack"] = {k: churned.put_at.get(k) for k in rnd.resurrected}
            rows.append(row)
            found.append(rnd)
            scenario.timeline.event(
                "deletes.round",
                round=index,
                acked=len(rnd.acked_deletes),
                resurrected=len(rnd.resurrected),
                refused=len(rnd.refused_deletes),
            )
    _judge(scenario, found, rows)


def _judge(scenario: ScenarioRun, rounds: list[deletes.Round], rows: list[dict[str, Any]]) -> None:
    acked = sum(len(r.acked_deletes) for r in rounds)
    resurrected = sum(len(r.resurrected) for r in rounds)
    flapping = sum(len(r.flapping) for r in rounds)
    early = sum(int(row["acknowledged_deletes_in_reconnect_window"]) for row in rows)
    path = scenario.dir / "restart-deletes-evidence.json"
    path.write_text(json.dumps({"rounds": rows}, indent=2, sort_keys=True))
    scenario.result.evidence.append(str(path.relative_to(scenario.dir.parent)))
    measurements = scenario.result.measurements
    measurements["rounds"] = len(rounds)
    measurements["acknowledged_deletes"] = acked
    measurements["acknowledged_deletes_in_reconnect_window"] = early
    measurements["deletes_refused"] = sum(len(r.refused_deletes) for r in rounds)
    measurements["resurrection_rate"] = round(resurrected / acked, 4) if acked else None
    measurements["rounds_with_resurrection"] = sum(1 for r in rounds if r.resurrected)
    if early == 0:
        scenario.result.inconclusive(
            f"no delete was acknowledged within {RECONNECT_S:g} s of the app's first write after a restart: "
            "the window in which MinIO may not see every drive was not tested"
        )
    unanswered = deletes.unanswered_reason(rounds)
    if unanswered:
        scenario.result.inconclusive(unanswered)
    scenario.measure("resurrected_deletes", resurrected, 0, unit="")
    scenario.measure("flapping_listings", flapping, 0, unit="")
    scenario.check_ledger(expect_loss=False)


@pytest.mark.scenario("delete-after-restart", title="Deletes right after a full restart stay deleted", extended=True)
def test_deletes_after_a_restart_stay_deleted(scenario: ScenarioRun, settings: Settings) -> None:
    after_restart(scenario, settings.resurrection_rounds)
