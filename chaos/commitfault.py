"""A commit refused on some drives: what a server dying mid-write leaves.

MinIO writes an object in two steps: the data goes to every drive's temp
area, then a commit (renameData) moves it into place and rewrites the
object's ``xl.meta``. A server that dies between the two (pods terminating
one after another in a full outage) leaves the commit on fewer drives than
write quorum; MinIO answers 503 and undoes the commit where it landed. To
make that happen on chosen drives, on demand, the object's directory on
those drives is made immutable (``chattr +i``, on the node, where the
volume lives): the data write to the temp area succeeds, the commit into the
object's directory fails with EPERM. ``allow`` removes the flag again.

Proof: ``lsattr`` shows the immutable flag on every directory before the
fault counts; a filesystem that cannot carry it (overlay, tmpfs) fails the
proof, never silently passes.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from functools import partial

from chaos.diskfaults import Drive
from chaos.faults import FaultNotProven, Proof
from chaos.rollback import Rollbacks
from kernel.errors import InfraError
from kernel.procs import run

# stdin: one directory per line. Prints how many now carry the flag.
_SET = (
    'n=0; while IFS= read -r d; do chattr "$1" "$d"; '
    'case "$(lsattr -d "$d")" in ????i*) n=$((n+1));; esac; done; echo "$n"'
)


def _dirs(drive: Drive, bucket: str, names: Iterable[str]) -> list[str]:
    return [f"{drive.path}/{bucket}/{name}" for name in names]


def _chattr(drive: Drive, flag: str, dirs: list[str]) -> int:
    try:
        out = run(
            ["docker", "exec", "-i", drive.node, "sh", "-c", _SET, "sh", flag],
            timeout=120,
            input_text="\n".join(dirs) + "\n",
        ).stdout
    except InfraError as exc:
        raise FaultNotProven(f"chattr {flag} on {drive.node} for {drive.pod}'s drive failed: {exc}") from exc
    return int(out.strip().splitlines()[-1])


def refuse(drives: list[Drive], bucket: str, names: list[str], *, rollbacks: Rollbacks) -> Proof:
    """Make the commit of ``names`` fail on ``drives`` until :func:`allow`."""
    proof = Proof("commit-refused", [d.pod for d in drives], time.time())
    for drive in drives:
        dirs = _dirs(drive, bucket, names)
        rollbacks.push(
            f"commit/{drive.pod}",
            f"chattr -i the {len(dirs)} object directories on {drive.pod}'s drive",
            partial(_chattr, drive, "-i", dirs),
        )
        flagged = _chattr(drive, "+i", dirs)
        if flagged != len(dirs):
            raise FaultNotProven(
                f"{flagged} of {len(dirs)} object directories on {drive.pod}'s drive ({drive.node}:{drive.path}) "
                "carry the immutable flag: this filesystem cannot refuse a commit this way"
            )
        proof.evidence[drive.pod] = {"node": drive.node, "immutable_dirs": flagged}
    proof.finished_at = time.time()
    return proof


def allow(drives: list[Drive], *, rollbacks: Rollbacks) -> None:
    for drive in drives:
        rollbacks.revert(f"commit/{drive.pod}")
