"""Writes the sample run folders next to this file: ``python tests/unit/data/runs/generate.py``.

No real run folder exists on the machine this was written on, so these are
hand-made from the summary.json schema (reports.build.write_summary on
ScenarioResult-shaped dicts) with realistic numbers from the quick profile.
Real nightly run folders can replace or join them.

nightly/20260228-020000  pass, written before results carried ``limits``
nightly/20260301-020000  pass: the baseline
nightly/20260302-020000  pass, but pod-kill recovered much slower (compare flags it)
nightly/20260303-020000  fail: pod-kill lost acknowledged writes and missed read availability
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[3]))

from reports.build import write_summary  # noqa: E402 (after the path setup)

SETTINGS = {
    "cluster": "kind",
    "cluster_name": "chaosgate",
    "kube_context": "",
    "allowed_contexts": "",
    "keep_cluster": "False",
    "reuse_cluster": "False",
    "images": "auto",
    "workers": "2",
    "report_dir": "runs",
    "profile": "quick",
    "slo_file": "",
}
LIMIT = {
    "time_to_scale_out_s": (240.0, "max", "s"),
    "time_to_scale_in_s": (420.0, "max", "s"),
    "error_ratio": (0.02, "max", ""),
    "p95_latency_ms": (2000.0, "max", "ms"),
    "time_to_rejoin_s": (180.0, "max", "s"),
    "time_to_healed_s": (300.0, "max", "s"),
    "time_to_first_ack_after_fault_s": (30.0, "max", "s"),
    "read_availability": (0.9, "min", ""),
}
# full-outage holds first acks to its own SLO (full_outage_recovery_max_s).
FULL_OUTAGE_LIMIT = {
    "time_to_healed_s": LIMIT["time_to_healed_s"],
    "time_to_first_ack_after_fault_s": (300.0, "max", "s"),
}


def ledger(attempted: int, failed: int, lost: int = 0, corrupted: int = 0) -> dict[str, Any]:
    acknowledged = attempted - failed
    counts = {"stable": acknowledged - lost - corrupted}
    if lost:
        counts["lost"] = lost
    if corrupted:
        counts["corrupted"] = corrupted
    problems = [
        {"key": f"obj-{i:05d}", "verdict": "lost", "expected_sha256": "9f2c" * 16, "found_sha256": None, "detail": ""}
        for i in range(min(lost, 20))
    ] + [
        {
            "key": f"obj-{900 + i:05d}",
            "verdict": "corrupted",
            "expected_sha256": "5be1" * 16,
            "found_sha256": "0000" * 16,
            "detail": "sha256 differs",
        }
        for i in range(corrupted)
    ]
    return {
        "attempted": attempted,
        "acknowledged": acknowledged,
        "failed": failed,
        "indeterminate": 0,
        "counts": counts,
        "problems": problems,
        "indeterminate_stored": 0,
        "lost": lost,
        "damaged": lost + corrupted,
    }


def scenario(
    name: str,
    title: str,
    measured: dict[str, float | int | None],
    *,
    t: tuple[float, float],
    limits: dict[str, tuple[float, str, str]] | None = None,
    led: dict[str, Any] | None = None,
    proofs: list[dict[str, Any]] | None = None,
    reasons: list[str] | None = None,
    checks: list[str] | None = None,
    with_limits: bool = True,
) -> dict[str, Any]:
    limits = LIMIT if limits is None else limits
    result: dict[str, Any] = {
        "name": name,
        "title": title,
        "verdict": "fail" if reasons else "pass",
        "reasons": reasons or [],
        "measurements": measured,
        "limits": {
            k: {"limit": limits[k][0], "kind": limits[k][1], "unit": limits[k][2]} for k in measured if k in limits
        },
        "ledger": led,
        "proofs": proofs or [],
        "t_start": t[0],
        "t_end": t[1],
        "checks": checks or [],
    }
    if not with_limits:
        del result["limits"]
    return result


def sigkill_proof(wall: float, restarts_after: int = 1) -> dict[str, Any]:
    return {
        "fault": "sigkill",
        "targets": ["minio-pool0-1"],
        "started_at": wall,
        "finished_at": wall + 6.2,
        "evidence": {
            "minio-pool0-1": {
                "node": "chaosgate-worker2",
                "pid": 4242,
                "restarts_before": 0,
                "restarts_after": restarts_after,
            }
        },
    }


def outage_proof(wall: float) -> dict[str, Any]:
    names = [f"minio-pool0-{i}" for i in range(4)]
    return {
        "fault": "delete-pods",
        "targets": names,
        "started_at": wall,
        "finished_at": wall + 14.8,
        "evidence": {
            n: {
                "uid_before": f"6f1c2a{i}0-1b2c-4d5e-8f90-0a1b2c3d4e5f",
                "node": f"chaosgate-worker{1 + i % 2}",
                "uid_after": f"a93e7b{i}1-2c3d-4e5f-9a01-1b2c3d4e5f60",
            }
            for i, n in enumerate(names)
        },
    }


def run(day: int, *, healed: float, rejoin: float, p95: float, availability: float, lost: int = 0, corrupted: int = 0):
    wall0 = 1772330400.0 + (day - 1) * 86400  # 2026-03-01T02:00:00Z, shifted per day
    hpa = scenario(
        "hpa-under-load",
        "Gateway scales out and back in under load",
        {
            "time_to_scale_out_s": 46.3,
            "peak_users": 40,
            "requests": 10412,
            "error_ratio": 0.0012,
            "p95_latency_ms": p95,
            "max_replicas_seen": 4.0,
            "time_to_scale_in_s": 181.0,
        },
        t=(12.0, 330.0),
        led=ledger(5230, 6),
        checks=["time_to_scale_out_s = 46.3s <= 240s", "all 5224 acknowledged writes read back intact"],
    )
    reasons = []
    if availability < 0.9:
        reasons.append(f"read_availability = {availability:g} < 0.9")
    if lost or corrupted:
        reasons.append(f"{lost} acknowledged writes lost, {corrupted} corrupted or stale (of {2240 - 26})")
    pod_kill = scenario(
        "pod-kill",
        "SIGKILL one MinIO server under load",
        {
            "time_to_detect_s": 14.1,
            "time_to_rejoin_s": rejoin,
            "time_to_healed_s": healed,
            "time_to_first_ack_after_fault_s": 2.4,
            "read_availability": availability,
        },
        t=(336.0, 520.0),
        led=ledger(2240, 26, lost=lost, corrupted=corrupted),
        proofs=[sigkill_proof(wall0 + 395.0)],
        reasons=reasons,
        checks=[f"time_to_rejoin_s = {rejoin:g}s <= 180s", "fault sigkill proven on minio-pool0-1"],
    )
    outage = scenario(
        "full-outage",
        "Every MinIO pod deleted at once",
        {"time_to_healed_s": 88.0 + day, "time_to_first_ack_after_fault_s": 61.5},
        t=(526.0, 700.0),
        limits=FULL_OUTAGE_LIMIT,
        led=ledger(1890, 410),
        proofs=[outage_proof(wall0 + 580.0)],
    )
    negative = scenario(
        "negative-ephemeral",
        "Negative control: ephemeral storage, full outage",
        {"time_to_healed_s": 52.0, "time_to_first_ack_after_fault_s": 40.2},
        t=(706.0, 880.0),
        limits={},
        led=ledger(1850, 402, lost=1448),
        proofs=[outage_proof(wall0 + 760.0)],
        checks=["the checker caught the known-bad stack: 1448 acknowledged writes lost or damaged"],
    )
    return [hpa, pod_kill, outage, negative], wall0


def timeline(folder: Path, wall0: float) -> None:
    """A few lines of the pod-kill scenario around its fault, in Timeline's format."""
    lines = []
    for i in range(8):
        t = 380.0 + i * 5
        online = 3 if 2 <= i <= 4 else 4
        lines.append(
            {
                "t": t,
                "wall": wall0 + t,
                "kind": "sample",
                "scenario": "pod-kill",
                "minio": {"servers_online": online, "drives_ok": online, "drives_healing": int(i == 5)},
                "pods": {"minio_ready": online, "app_ready": 1},
                "hpa": {"current": 1, "desired": 1, "cpu_percent": 38, "min": 1, "max": 4},
                "load": {"users": 8, "rps": 21.5 - (i == 2) * 6, "failures_per_s": 0.0, "p50_ms": 18.0, "p95_ms": 74.0},
            }
        )
        if i == 2:
            lines.append(
                {
                    "t": t + 0.5,
                    "wall": wall0 + t + 0.5,
                    "kind": "event",
                    "scenario": "pod-kill",
                    "name": "fault.sigkill.start",
                }
            )
        if i == 6:
            lines.append(
                {
                    "t": t + 0.5,
                    "wall": wall0 + t + 0.5,
                    "kind": "event",
                    "scenario": "pod-kill",
                    "name": "fault.sigkill.end",
                    "ok": True,
                }
            )
    text = "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines)
    (folder / "timeline.jsonl").write_text(text, encoding="utf-8")


def write(name: str, results: list[dict[str, Any]], wall0: float, *, generated_at: str) -> None:
    folder = HERE / "nightly" / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    write_summary(folder, SETTINGS, results)
    summary = json.loads((folder / "summary.json").read_text())
    summary["generated_at"] = generated_at
    (folder / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    timeline(folder, wall0)


def main() -> None:
    legacy, wall = run(0, healed=44.0, rejoin=33.0, p95=430.0, availability=0.958)
    for result in legacy:
        del result["limits"]
    write("20260228-020000", legacy, wall, generated_at="2026-02-28T02:15:12Z")
    baseline, wall = run(1, healed=42.3, rejoin=31.5, p95=410.0, availability=0.962)
    write("20260301-020000", baseline, wall, generated_at="2026-03-01T02:15:40Z")
    slower, wall = run(2, healed=96.8, rejoin=58.0, p95=455.0, availability=0.951)
    write("20260302-020000", slower, wall, generated_at="2026-03-02T02:16:31Z")
    lossy, wall = run(3, healed=47.9, rejoin=34.0, p95=420.0, availability=0.884, lost=3, corrupted=1)
    write("20260303-020000", lossy, wall, generated_at="2026-03-03T02:15:58Z")


if __name__ == "__main__":
    main()
