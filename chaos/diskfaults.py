"""A full drive: one MinIO server's volume filled to the brim, for real.

On kind a PersistentVolume of the local-path provisioner is a directory on
the node's disk, shared with everything else there: it has no size of its
own, and filling it would fill the machine. So the drive is first made
small: a tmpfs of the drive's current use plus some headroom is mounted over
the volume's directory on the node (the data copied in), and the server pod
is restarted so its bind mount picks it up. Then the tmpfs is filled; writes
to it get ENOSPC from the kernel like any full disk. ``restore`` copies the
data back to the directory underneath, unmounts the tmpfs and restarts the
pod on its real volume.

Node commands run through ``docker exec`` on the kind node container; a
cluster whose nodes are not kind containers cannot run this fault.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from chaos.faults import FaultNotProven, Proof
from chaos.kube import REQUEST_TIMEOUT, Kube
from kernel.errors import InfraError
from kernel.procs import run

FILLER = ".chaosgate-fill"
"""The filler file in the drive's root; MinIO ignores what it does not know there."""


@dataclass(frozen=True)
class Drive:
    pod: str
    node: str
    path: str
    """The volume's directory on the node."""


def drive_of(kube: Kube, namespace: str, pod_name: str) -> Drive:
    """The node directory of the pod's first PersistentVolumeClaim."""
    pod = kube.core.read_namespaced_pod(pod_name, namespace, _request_timeout=REQUEST_TIMEOUT)
    claims = [v.persistent_volume_claim.claim_name for v in pod.spec.volumes or [] if v.persistent_volume_claim]
    if not claims:
        raise FaultNotProven(f"pod {pod_name} has no PersistentVolumeClaim: its drive is not a volume to fill")
    claim = kube.core.read_namespaced_persistent_volume_claim(claims[0], namespace, _request_timeout=REQUEST_TIMEOUT)
    volume = kube.core.read_persistent_volume(claim.spec.volume_name, _request_timeout=REQUEST_TIMEOUT)
    source = volume.spec.host_path or volume.spec.local
    if source is None or not source.path:
        raise FaultNotProven(
            f"volume {claim.spec.volume_name} of {pod_name} is not a node directory (hostPath or local): "
            "this fault fills kind's local-path volumes only"
        )
    return Drive(pod_name, pod.spec.node_name, source.path)


def node_sh(drive: Drive, script: str, *, timeout: float = 120) -> str:
    return run(["docker", "exec", drive.node, "sh", "-ec", script], timeout=timeout).stdout


def used_bytes(drive: Drive) -> int:
    return int(node_sh(drive, f"du -sb {shlex.quote(drive.path)} | cut -f1").strip())


def free_bytes(drive: Drive) -> int:
    return int(node_sh(drive, f"df -B1 --output=avail {shlex.quote(drive.path)} | tail -1").strip())


def is_small(drive: Drive) -> bool:
    out = node_sh(drive, f"mountpoint -q {shlex.quote(drive.path)} && echo yes || echo no")
    return out.strip() == "yes"


def shrink(drive: Drive, size_bytes: int) -> None:
    """Mount a tmpfs of ``size_bytes`` over the drive's directory with its data
    in it (the running server keeps its old mount until restarted)."""
    if is_small(drive):
        raise InfraError(f"{drive.path} on {drive.node} is already a mount point: refusing to stack another")
    stage = f"/run/chaosgate-drive-{drive.pod}"
    path = shlex.quote(drive.path)
    node_sh(
        drive,
        f"mkdir -p {stage} && mount -t tmpfs -o size={size_bytes} chaosgate-drive {stage} && "
        # A bind, not --move: kind's node mounts are shared, and a shared mount's children cannot move.
        f"cp -a {path}/. {stage}/ && mount --bind {stage} {path} && umount {stage} && rmdir {stage}",
        timeout=300,
    )


def fill(drive: Drive) -> int:
    """Fill the drive until the kernel refuses a byte more; returns bytes free after."""
    target = shlex.quote(f"{drive.path}/{FILLER}")
    # fallocate takes what is free at once; dd then takes the last blocks, and fails with ENOSPC.
    node_sh(
        drive,
        f"fallocate -l $(df -B1 --output=avail {shlex.quote(drive.path)} | tail -1) {target} || true; "
        f"dd if=/dev/zero of={target}-2 bs=4096 2>/dev/null || true",
    )
    return free_bytes(drive)


def free(drive: Drive) -> int:
    """Remove the filler; returns bytes free after."""
    node_sh(drive, f"rm -f {shlex.quote(f'{drive.path}/{FILLER}')} {shlex.quote(f'{drive.path}/{FILLER}-2')}")
    return free_bytes(drive)


def restore(drive: Drive) -> None:
    """Copy the small drive's data to the directory underneath and unmount
    it; the caller restarts the pod, which then binds the real directory."""
    if not is_small(drive):
        return
    free(drive)
    parent, name = drive.path.rsplit("/", 1)
    under = f"/run/chaosgate-under-{drive.pod}"
    node_sh(
        drive,
        f"mkdir -p {under} && mount --bind {shlex.quote(parent)} {under} && "
        f"cp -a {shlex.quote(drive.path)}/. {under}/{shlex.quote(name)}/ ; "
        f"umount {under}; rmdir {under}; umount -l {shlex.quote(drive.path)}",
        timeout=300,
    )


def proof_of_fill(drive: Drive, started_at: float, finished_at: float, free_after: int) -> Proof:
    return Proof("fill-drive", [drive.pod], started_at, finished_at, {"node": drive.node, "free_bytes": free_after})
