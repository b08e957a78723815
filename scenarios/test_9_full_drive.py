"""Runbook: one MinIO server's drive fills to the brim under load.

MinIO places a new object in a pool only when every drive of the object's
erasure set has room for its part; one full drive makes its pool refuse new
objects (507 XMinioStorageFull: cmd/object-api-utils.go hasSpaceFor). With
a single pool that refuses every new write, so the scenario runs on the
target's ``two-pools`` variant, where a full drive in one pool must send
new objects to the other: capacity is grown by pools, and a pool filling up
is what it protects against.

1. The server's volume is made small (chaos.diskfaults: a tmpfs of its use
   plus headroom, mounted over the volume's directory on its node; the pod
   restarted onto it). Proof: MinIO reports that drive's size.
2. Under load the drive is filled until the kernel refuses a byte more.
   Proof: MinIO reports the drive with no space left.
3. It stays full for the profile's outage time, then the filler is removed,
   and a heal puts on it what it missed.
4. Pass when: writes kept being acknowledged while the drive was full (the
   strict availability SLO: nothing is down), reads too, the drive took
   writes again after it was freed, every server and drive is online and
   healed, and every acknowledged write reads back intact. Afterwards the
   drive is moved back onto its real volume.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from chaos import diskfaults, faults, minio_heal
from chaos.minio_health import DriveState, ProbeError, admin_info
from kernel.wait import Seen
from scenarios.harness import NotApplicable, ScenarioRun

pytestmark = [
    pytest.mark.chaos,
    pytest.mark.variant("two-pools"),
    pytest.mark.scenario("full-drive", title="One MinIO drive filled to the brim under load", extended=True),
]

HEADROOM = 96 * 1024 * 1024
"""Room on the small drive beyond what it holds: the load's largest object
part (16 MiB at EC:2 is 8 MiB per drive) many times over."""

PAGE_SLACK = 1024 * 1024
"""How much larger than asked the small drive may be (tmpfs rounds up to pages)."""

RECOVERY_S = 60
"""Load planned after the drive is freed: the heal and writes to it again."""


def test_full_drive_under_load(scenario: ScenarioRun) -> None:
    profile, slo, stack = scenario.profile, scenario.slo, scenario.stack
    if not stack.env.nodes:
        raise NotApplicable("the nodes are not kind containers chaosgate can reach: no drive to fill")
    if stack.topology.pools < 2:
        raise NotApplicable(f"{stack.topology}: a full drive stops every new write of a single pool")
    victim = f"{stack.statefulsets[0]}-2"
    drive = diskfaults.drive_of(stack.kube, stack.namespace, victim)
    with scenario.fault("small-drive", targets=[victim]):
        size = diskfaults.used_bytes(drive) + HEADROOM
        scenario.rollbacks.push(
            f"drive/{stack.namespace}/{victim}",
            f"move {victim}'s drive back onto its volume",
            lambda: _back_onto_volume(scenario, drive),
        )
        diskfaults.shrink(drive, size)
        scenario.record_proof(faults.delete_pods(stack.kube, stack.namespace, stack.minio_selector, [victim]))
        scenario.wait_rejoined(time.time(), slo.rejoin_max_s)
        scenario.time_until(
            # tmpfs rounds its size up to whole pages.
            lambda: _drive_seen(
                scenario, victim, lambda d: 0 < d.total_bytes <= size + PAGE_SLACK, f"a drive of {size} bytes"
            ),
            "small_drive_seen_s",
            slo.detect_max_s,
        )
    planned = profile.steady_s + 20 + profile.outage_s + RECOVERY_S
    scenario.load_with_baseline(planned)

    with scenario.fault("full-drive", targets=[victim]):
        t0 = time.time()
        left = diskfaults.fill(drive)
        scenario.record_proof(diskfaults.proof_of_fill(drive, t0, time.time(), left))
        reported = scenario.time_until(
            lambda: _drive_seen(scenario, victim, lambda d: d.available_bytes < 1024 * 1024, "no space left"),
            "time_to_full_drive_reported_s",
            slo.detect_max_s,
        )
        full_at = time.time()
        scenario.hold(profile.outage_s, f"{victim}'s drive full")
        freed_at = time.time()
        diskfaults.free(drive)
        scenario.heal_written(full_at, onto=victim)
        healed = scenario.wait_rejoined(freed_at, slo.healed_max_s)
    scenario.wait_load()

    if reported is not None:
        scenario.measure(
            "write_availability_drive_full",
            scenario.write_availability(full_at, freed_at),
            slo.read_availability_within_parity_min,
            unit="",
            floor=True,
        )
        scenario.measure(
            "read_availability_drive_full",
            scenario.read_availability(full_at, freed_at),
            slo.read_availability_within_parity_min,
            unit="",
            floor=True,
        )
    scenario.measure("time_to_healed_after_freed_s", healed, slo.healed_max_s)
    scenario.measure("time_to_first_ack_after_freed_s", scenario.first_ack_after(freed_at), slo.first_ack_max_s)
    scenario.rollbacks.revert(f"drive/{stack.namespace}/{victim}")
    scenario.check_ledger()


def _drive_seen(scenario: ScenarioRun, victim: str, wanted: Callable[[DriveState], bool], what: str) -> Seen:
    try:
        info = admin_info(scenario.stack.minio_url, scenario.stack.credentials)
    except ProbeError as exc:
        return Seen(False, str(exc))
    drives = [d for d in info.drives if f"//{victim}." in d.endpoint or d.endpoint.startswith(f"{victim}.")]
    if not drives:
        return Seen(False, f"MinIO lists no drive of {victim}")
    ok = all(wanted(d) for d in drives)
    shown = ", ".join(f"{d.available_bytes}/{d.total_bytes} bytes free" for d in drives)
    return Seen(ok, f"{victim}: {shown} (waiting for {what})")


def _back_onto_volume(scenario: ScenarioRun, drive: diskfaults.Drive) -> None:
    """Copy the small drive back, restart the pod on its volume, wait and heal."""
    stack = scenario.stack
    diskfaults.restore(drive)
    faults.delete_pods(stack.kube, stack.namespace, stack.minio_selector, [drive.pod], graceful=True)
    scenario.wait_rejoined(time.time(), scenario.slo.rejoin_max_s)
    # What reached the small drive after its last copy: a whole-prefix heal, with no load running.
    prefix = scenario.stored_prefix()
    outcome = minio_heal.heal_prefix(stack.minio_url, stack.credentials, stack.bucket, prefix, timeout=300)
    scenario.timeline.event("heal.prefix", prefix=prefix, seconds=outcome.seconds, healed=outcome.healed)
