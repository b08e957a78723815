"""What each MinIO drive holds for a key, read on the node, as evidence.

When a deleted key comes back, the question is which drives held which
version when the delete was answered. MinIO's own answers cannot tell
(they are what is in doubt), and a server that is down cannot be asked, so
the drives are read where they live: on kind a volume is a directory on the
node (chaos.diskfaults.drive_of), readable with ``docker exec`` whether the
server pod runs or not. Each key's ``xl.meta`` is parsed (chaos.xlmeta) into
its version list: id, modification time, object or delete marker.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from typing import Any

from chaos import xlmeta
from chaos.diskfaults import Drive
from kernel.errors import InfraError
from kernel.procs import run

# One line per key and drive: "<drive index>\t<key>\t<base64 of xl.meta or ->".
_SCRIPT = """
bucket=$1; shift
while IFS= read -r key; do
  i=0
  for root in "$@"; do
    f="$root/$bucket/$key/xl.meta"
    if [ -f "$f" ]; then printf '%s\\t%s\\t%s\\n' "$i" "$key" "$(base64 -w0 "$f")"
    else printf '%s\\t%s\\t-\\n' "$i" "$key"; fi
    i=$((i+1))
  done
done
"""

View = dict[str, list[dict[str, Any]] | str | None]
"""Pod name -> the key's versions on its drive (newest first), None when the
drive has no xl.meta for it, or a string saying why it could not be read."""


def read_views(drives: Iterable[Drive], bucket: str, keys: list[str], *, timeout: float = 120) -> dict[str, View]:
    """Each key's versions on every drive: one ``docker exec`` per node."""
    by_node: dict[str, list[Drive]] = {}
    for drive in drives:
        by_node.setdefault(drive.node, []).append(drive)
    views: dict[str, View] = {key: {} for key in keys}
    for node, node_drives in by_node.items():
        cmd = ["docker", "exec", "-i", node, "sh", "-c", _SCRIPT, "sh", bucket, *(d.path for d in node_drives)]
        try:
            out = run(cmd, timeout=timeout, input_text="\n".join(keys) + "\n").stdout
        except InfraError as exc:
            for key in keys:
                for drive in node_drives:
                    views[key][drive.pod] = f"not read: {str(exc)[:200]}"
            continue
        for line in out.splitlines():
            index, key, blob = line.split("\t", 2)
            views.setdefault(key, {})[node_drives[int(index)].pod] = _versions(blob)
    return views


def _versions(blob: str) -> list[dict[str, Any]] | str | None:
    if blob == "-":
        return None
    try:
        versions = xlmeta.parse(base64.b64decode(blob, validate=True))
    except (binascii.Error, xlmeta.XlMetaError) as exc:
        return f"unreadable xl.meta: {exc}"
    return [{"version_id": v.version_id, "mod_time": v.mod_time, "kind": v.kind.value} for v in versions]


def holders(view: Mapping[str, object]) -> list[str]:
    """The pods whose drive holds an object version (not only a delete marker
    or nothing) as its newest entry."""
    held = []
    for pod, versions in view.items():
        if isinstance(versions, list) and versions and versions[0]["kind"] != xlmeta.Kind.DELETE_MARKER.value:
            held.append(pod)
    return sorted(held)
