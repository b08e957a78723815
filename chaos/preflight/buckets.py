"""CG013: a bucket left unversioned where the manifests say so.

In an unversioned bucket MinIO can acknowledge a DELETE and bring the object
back (docs/findings/delete-resurrection.md): an overwrite refused without
write quorum is undone by deleting the acknowledged version on the drives it
reached, and a later delete that meets only those drives reads "not found"
and answers 204. Bucket versioning is not a Kubernetes object, so the rule
sees it only where a workload's environment turns it off: a variable named
``*_BUCKET_VERSIONING`` set to off, false, disabled or suspended (the
reference app's switch is GATEWAY_BUCKET_VERSIONING). Other stacks are
judged by the delete-resurrection scenario, not here.
"""

from __future__ import annotations

from chaos.preflight.findings import ERROR, Finding
from chaos.preflight.manifests import as_dict, as_list, dig, object_ref
from chaos.preflight.servers import Context

CHECK = "CG013-unversioned-bucket"
SUFFIX = "_BUCKET_VERSIONING"
OFF = frozenset({"off", "false", "disabled", "suspended"})


def check_bucket_versioning(ctx: Context) -> list[Finding]:
    findings = []
    for doc in ctx.manifests:
        spec = as_dict(doc.get("spec")) if doc.get("kind") == "Pod" else as_dict(dig(doc, "spec", "template", "spec"))
        for container in as_list(spec.get("containers")):
            c = as_dict(container)
            for env in as_list(c.get("env")):
                e = as_dict(env)
                name = str(e.get("name", ""))
                if name.endswith(SUFFIX) and str(e.get("value", "")).strip().lower() in OFF:
                    findings.append(
                        Finding(
                            CHECK,
                            ERROR,
                            object_ref(doc),
                            f"spec.template.spec.containers[{c.get('name')}].env[{name}].value",
                            "the app's bucket stays unversioned: MinIO can acknowledge a DELETE after a refused "
                            "overwrite without deleting anything, and the object comes back "
                            "(docs/findings/delete-resurrection.md).",
                            "turn bucket versioning on (chaosgate's app chart does by default), or drop the variable.",
                        )
                    )
    return findings
