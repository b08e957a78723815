"""CG013: a bucket left unversioned where the manifests say so; CG014: an
app told to believe every delete MinIO answers without a delete marker.

In an unversioned bucket MinIO can acknowledge a DELETE and bring the object
back (docs/findings/delete-resurrection.md): an overwrite refused without
write quorum is undone by deleting the acknowledged version on the drives it
reached, and a later delete that meets only those drives reads "not found"
and answers 204. Bucket versioning is not a Kubernetes object, so the rule
sees it only where a workload's environment turns it off: a variable named
``*_BUCKET_VERSIONING`` set to off, false, disabled or suspended (the
reference app's switch is GATEWAY_BUCKET_VERSIONING). Other stacks are
judged by the delete-resurrection scenario, not here.

Right after a restart a MinIO server may not see every drive yet; a DELETE's
look-up then reads "not found" for a key that is there, MinIO answers 204
without writing a delete marker, and the key reads back later. The reference
app holds such a delete back until every server has been up a while
(``GATEWAY_DELETE_SETTLE``); a variable named ``*_DELETE_SETTLE`` set to 0
turns that off (CG014, a warning: other apps are judged by the
delete-after-restart scenario).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from chaos.preflight.findings import ERROR, WARNING, Finding
from chaos.preflight.manifests import as_dict, as_list, dig, object_ref
from chaos.preflight.servers import Context

CHECK = "CG013-unversioned-bucket"
SUFFIX = "_BUCKET_VERSIONING"
OFF = frozenset({"off", "false", "disabled", "suspended"})
SETTLE_CHECK = "CG014-delete-settle-off"
SETTLE_SUFFIX = "_DELETE_SETTLE"


def _env(ctx: Context) -> Iterator[tuple[dict[str, Any], str, str, str]]:
    """(object, container name, variable name, value) of every literal env value."""
    for doc in ctx.manifests:
        spec = as_dict(doc.get("spec")) if doc.get("kind") == "Pod" else as_dict(dig(doc, "spec", "template", "spec"))
        for container in as_list(spec.get("containers")):
            c = as_dict(container)
            for env in as_list(c.get("env")):
                e = as_dict(env)
                yield doc, str(c.get("name")), str(e.get("name", "")), str(e.get("value", "")).strip().lower()


def check_bucket_versioning(ctx: Context) -> list[Finding]:
    return [
        Finding(
            CHECK,
            ERROR,
            object_ref(doc),
            f"spec.template.spec.containers[{container}].env[{name}].value",
            "the app's bucket stays unversioned: MinIO can acknowledge a DELETE after a refused "
            "overwrite without deleting anything, and the object comes back "
            "(docs/findings/delete-resurrection.md).",
            "turn bucket versioning on (chaosgate's app chart does by default), or drop the variable.",
        )
        for doc, container, name, value in _env(ctx)
        if name.endswith(SUFFIX) and value in OFF
    ]


def check_delete_settle(ctx: Context) -> list[Finding]:
    return [
        Finding(
            SETTLE_CHECK,
            WARNING,
            object_ref(doc),
            f"spec.template.spec.containers[{container}].env[{name}].value",
            "the app believes every DELETE that MinIO answers without a delete marker: right after a restart "
            "such an answer can come from a server that does not see every drive yet, and the object comes "
            "back (docs/findings/delete-resurrection.md).",
            "leave the settle time on (chaosgate's app chart: 30 s by default), or drop the variable.",
        )
        for doc, container, name, value in _env(ctx)
        if name.endswith(SETTLE_SUFFIX) and value in ("0", "0.0", "off")
    ]
