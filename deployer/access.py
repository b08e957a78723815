"""What a run may do on a cluster it did not create, checked before anything changes.

The permissions a run needs are data: the two ClusterRoles in
``rbac/chaosgate.yaml``, a file users apply as it is. Their annotations say
why each rule is needed (``chaosgate.dev/why``) and which rules only a target
with a ``deploy`` section needs (``chaosgate.dev/deploy-only``). The check asks
the API server one SelfSubjectAccessReview per rule (namespaced rules once per
namespace), so it sees exactly what the server's authorizers allow: RBAC,
webhooks and all, not a reading of the bindings.

Everything but :func:`check` and :func:`require` is pure and works on plain
data, so it is tested without a cluster.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from deployer.kubectl import Kubectl
from kernel.errors import BadInputError, InfraError

RBAC_FILE = Path(__file__).parent / "rbac" / "chaosgate.yaml"
CLUSTER_ROLE = "chaosgate-run-cluster"
NAMESPACED_ROLE = "chaosgate-run-namespaced"
WHY_ANNOTATION = "chaosgate.dev/why"
DEPLOY_ONLY_ANNOTATION = "chaosgate.dev/deploy-only"
FIX = (
    "apply deployer/rbac/chaosgate.yaml (bind the roles to your user or ServiceAccount), or use a context that has them"
)
DEPLOY_NOTE = (
    "A target with a deploy section also needs whatever its charts create: "
    "bind the built-in admin ClusterRole in the target's namespace."
)
REVIEW_API = "authorization.k8s.io/v1"
REVIEW_KIND = "SelfSubjectAccessReview"

# Lines kubectl prints when it never reached an API server (lower case).
UNREACHABLE_MARKERS = (
    "the connection to the server",  # "... was refused - did you specify the right host or port?"
    "connection refused",
    "no such host",
    "unable to connect to the server",
    "i/o timeout",
    "no route to host",
    "network is unreachable",
    "tls handshake timeout",
    "tls: failed to verify certificate",
)
# Where the network error starts in a line like `Get "https://...": dial tcp ...`.
CAUSE_STARTS = ("dial tcp", "net/http:", "tls:")
NO_CONTEXT = re.compile(r'context "[^"]*" does not exist|context was not found for specified context')

# One kubectl call creates every review (a POST each; about a hundred take
# well under a second): a fixed allowance plus time per review, generous
# because a slow API server is not a missing permission.
BATCH_SECONDS = 30.0
SECONDS_PER_REVIEW = 0.5


@dataclass(frozen=True)
class Rule:
    """One verb on one resource, as the API server is asked about it."""

    verb: str
    group: str  # "" is the core group
    resource: str  # may carry a subresource: "pods/log"
    namespaced: bool
    why: str  # completes "needed ...": "to kill MinIO servers"
    deploy_only: bool = False

    @property
    def name(self) -> str:
        """How kubectl names it: ``pods``, ``statefulsets.apps/scale``."""
        base, _, sub = self.resource.partition("/")
        return base + (f".{self.group}" if self.group else "") + (f"/{sub}" if sub else "")


@dataclass(frozen=True)
class Review:
    """One question for the API server: may I do ``rule`` (in ``namespace``)?"""

    rule: Rule
    namespace: str = ""  # "" for a cluster-scoped rule

    def attributes(self) -> dict[str, str]:
        base, _, sub = self.rule.resource.partition("/")
        attrs = {"verb": self.rule.verb, "group": self.rule.group, "resource": base}
        if sub:
            attrs["subresource"] = sub
        if self.namespace:
            attrs["namespace"] = self.namespace
        return attrs

    def key(self) -> tuple[str, str, str, str, str]:
        return _key(self.attributes())

    def manifest(self) -> dict[str, Any]:
        return {"apiVersion": REVIEW_API, "kind": REVIEW_KIND, "spec": {"resourceAttributes": self.attributes()}}

    def missing(self) -> str:
        where = f"in namespace {self.namespace}" if self.namespace else "at cluster scope"
        return f"cannot {self.rule.verb} {self.rule.name} {where} (needed {self.rule.why})"


def _key(attrs: Mapping[str, Any]) -> tuple[str, str, str, str, str]:
    # The server leaves out empty fields in its answer, so "" and absent are one.
    namespace, verb, group, resource, sub = (
        str(attrs.get(f) or "") for f in ("namespace", "verb", "group", "resource", "subresource")
    )
    return namespace, verb, group, resource, sub


# --- the rules file -------------------------------------------------------


def required_rules() -> list[Rule]:
    """Every rule of the two ClusterRoles in ``rbac/chaosgate.yaml``."""
    return parse_rules(RBAC_FILE.read_text(encoding="utf-8"), source=str(RBAC_FILE))


def parse_rules(text: str, *, source: str = "rbac/chaosgate.yaml") -> list[Rule]:
    """The rules of the two ClusterRoles in ``text``, each with its why.

    Raises InfraError when the file is not what chaosgate ships: a role
    missing, a rule without a why, a why or deploy-only line that names no
    rule, or a rule the review cannot ask about (wildcards, resourceNames).
    """
    roles = {
        doc["metadata"]["name"]: doc
        for doc in yaml.safe_load_all(text)
        if isinstance(doc, dict) and doc.get("kind") == "ClusterRole"
    }
    rules: list[Rule] = []
    for name, namespaced in ((CLUSTER_ROLE, False), (NAMESPACED_ROLE, True)):
        if name not in roles:
            raise InfraError(f"{source} has no ClusterRole {name}")
        rules += _role_rules(roles[name], namespaced=namespaced, where=f"{source}, ClusterRole {name}")
    return rules


def _role_rules(role: Mapping[str, Any], *, namespaced: bool, where: str) -> list[Rule]:
    annotations = role.get("metadata", {}).get("annotations") or {}
    whys = _annotation_lines(annotations.get(WHY_ANNOTATION, ""), with_reason=True, where=where)
    deploy_only = _annotation_lines(annotations.get(DEPLOY_ONLY_ANNOTATION, ""), with_reason=False, where=where)
    used: set[tuple[str, str]] = set()
    rules = []
    for policy in role.get("rules") or []:
        if set(policy) - {"apiGroups", "resources", "verbs"}:
            raise InfraError(f"{where}: a rule may only name apiGroups, resources and verbs, not {sorted(policy)}")
        for group in policy.get("apiGroups") or []:
            for resource in policy.get("resources") or []:
                for verb in policy.get("verbs") or []:
                    if "*" in (group, resource, verb):
                        raise InfraError(f"{where}: wildcards ask for more than a run needs")
                    rule = Rule(verb, group, resource, namespaced, why="")
                    why_key = _match(whys, rule.name, verb)
                    if why_key is None:
                        raise InfraError(f"{where}: {rule.name} {verb} has no line in {WHY_ANNOTATION}")
                    used.add(why_key)
                    deploy_key = _match(deploy_only, rule.name, verb)
                    if deploy_key is not None:
                        used.add(deploy_key)
                    rules.append(Rule(verb, group, resource, namespaced, whys[why_key], deploy_key is not None))
    stale = sorted(f"{name} {verb}".strip() for name, verb in (set(whys) | set(deploy_only)) - used)
    if stale:
        raise InfraError(f"{where}: annotation lines name no rule of the role: {', '.join(stale)}")
    return rules


def _annotation_lines(text: str, *, with_reason: bool, where: str) -> dict[tuple[str, str], str]:
    """``name [verb,verb]: reason`` lines -> {(name, verb or ""): reason}."""
    found: dict[tuple[str, str], str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        head, colon, reason = line.partition(":")
        if with_reason and not reason.strip():
            raise InfraError(f"{where}: {line!r} needs a reason after ':'")
        if not with_reason and colon:
            raise InfraError(f"{where}: {line!r} takes no reason")
        parts = head.split()
        if len(parts) not in {1, 2}:
            raise InfraError(f"{where}: {line!r} is not RESOURCE [VERB,VERB...]")
        verbs = parts[1].split(",") if len(parts) == 2 else [""]
        for verb in verbs:
            if (parts[0], verb) in found:
                raise InfraError(f"{where}: {parts[0]} {verb} is named twice")
            found[(parts[0], verb)] = reason.strip()
    return found


def _match(lines: Mapping[tuple[str, str], str], name: str, verb: str) -> tuple[str, str] | None:
    for key in ((name, verb), (name, "")):
        if key in lines:
            return key
    return None


# --- questions and answers -------------------------------------------------


def expand(rules: Iterable[Rule], namespaces: Sequence[str], *, deploys: bool) -> list[Review]:
    """One review per cluster-scoped rule and per namespaced rule and namespace;
    deploy-only rules only when ``deploys``."""
    unique = list(dict.fromkeys(namespaces))
    reviews = []
    for rule in rules:
        if rule.deploy_only and not deploys:
            continue
        if rule.namespaced:
            reviews += [Review(rule, namespace) for namespace in unique]
        else:
            reviews.append(Review(rule))
    return reviews


def review_list(reviews: Sequence[Review]) -> dict[str, Any]:
    """The reviews as one v1 List, for one ``kubectl create -f -``."""
    return {"apiVersion": "v1", "kind": "List", "items": [r.manifest() for r in reviews]}


def parse_answers(stdout: str) -> list[Mapping[str, Any]]:
    """The objects in kubectl's output. ``kubectl create -o json`` prints each
    created object as its own JSON document, one after another; a single
    object and a List are read as well."""
    decoder = json.JSONDecoder()
    found: list[Mapping[str, Any]] = []
    pos = 0
    while True:
        while pos < len(stdout) and stdout[pos].isspace():
            pos += 1
        if pos == len(stdout):
            return found
        try:
            value, pos = decoder.raw_decode(stdout, pos)
        except json.JSONDecodeError as exc:
            raise InfraError(f"kubectl printed something other than JSON objects: {exc}") from exc
        if not isinstance(value, dict):
            raise InfraError(f"kubectl printed {type(value).__name__} where an object was expected")
        if value.get("kind") == "List":
            found += value.get("items") or []
        else:
            found.append(value)


def denied(reviews: Sequence[Review], answers: Iterable[Mapping[str, Any]]) -> list[Review]:
    """The reviews the server did not allow. Answers are matched to questions
    by the attributes they echo, not by order. A question left without an
    answer is an InfraError: silence must not pass for permission."""
    allowed: dict[tuple[str, str, str, str, str], bool] = {}
    for answer in answers:
        if answer.get("kind") != REVIEW_KIND:
            continue
        attrs = (answer.get("spec") or {}).get("resourceAttributes") or {}
        allowed[_key(attrs)] = bool((answer.get("status") or {}).get("allowed"))
    unanswered = [r for r in reviews if r.key() not in allowed]
    if unanswered:
        names = ", ".join(f"{r.rule.verb} {r.rule.name} {r.namespace}".strip() for r in unanswered)
        raise InfraError(f"the API server gave no access review answer for: {names}")
    return [r for r in reviews if not allowed[r.key()]]


# --- messages ---------------------------------------------------------------


def unreachable_error(context: str, kubeconfig: Path | str, message: str) -> BadInputError | None:
    """A BadInputError when ``message`` (a failed kubectl call) says the
    cluster was never reached; None when it failed for another reason."""
    check_it = f"check it with `kubectl --kubeconfig {kubeconfig} --context {context} get nodes`"
    for line in message.splitlines():
        if NO_CONTEXT.search(line):
            return BadInputError(
                f"kube context {context} does not exist in {kubeconfig}: {line.strip()}; "
                f"list the contexts with `kubectl --kubeconfig {kubeconfig} config get-contexts` "
                "and name one with --kube-context"
            )
        if any(marker in line.lower() for marker in UNREACHABLE_MARKERS):
            return BadInputError(f"the cluster of context {context} is not reachable: {_cause(line)}; {check_it}")
    return None


def _cause(line: str) -> str:
    """The network error in a kubectl error line, without the request around it."""
    lower = line.lower()
    starts = [lower.index(start) for start in CAUSE_STARTS if start in lower]
    return line[min(starts) :].rstrip('"\\ ') if starts else line.strip()


def missing_message(context: str, lines: Sequence[str], *, deploys: bool) -> str:
    count = f"{len(lines)} permission{'s' if len(lines) != 1 else ''}"
    text = f"the user of kube context {context} lacks {count} a chaosgate run needs:\n"
    text += "".join(f"  - {line}\n" for line in lines)
    text += f"Fix: {FIX}."
    if deploys:
        text += f"\n{DEPLOY_NOTE}"
    return text


# --- against a cluster ----------------------------------------------------------


def check(kubectl: Kubectl, namespaces: Sequence[str], *, deploys: bool) -> list[str]:
    """What the user of ``kubectl``'s context may not do but a run needs, one
    line each; empty when everything is allowed. Raises BadInputError when
    the cluster cannot be reached."""
    reviews = expand(required_rules(), namespaces, deploys=deploys)
    answers = parse_answers(_ask(kubectl, reviews))
    return [review.missing() for review in denied(reviews, answers)]


def require(kubectl: Kubectl, namespaces: Sequence[str], *, deploys: bool) -> None:
    """Raise BadInputError naming every missing permission and the fix."""
    lines = check(kubectl, namespaces, deploys=deploys)
    if lines:
        raise BadInputError(missing_message(kubectl.context, lines, deploys=deploys))


def _ask(kubectl: Kubectl, reviews: Sequence[Review]) -> str:
    timeout = BATCH_SECONDS + SECONDS_PER_REVIEW * len(reviews)
    try:
        return kubectl.run(
            # Reviews are made here, not by people: kubectl need not fetch the
            # OpenAPI document to validate them.
            ["create", "-f", "-", "-o", "json", "--validate=false", f"--request-timeout={BATCH_SECONDS:.0f}s"],
            timeout=timeout,
            input_text=json.dumps(review_list(reviews)),
        )
    except InfraError as exc:
        bad_input = unreachable_error(kubectl.context, kubectl.kubeconfig, str(exc))
        if bad_input is not None:
            raise bad_input from exc
        raise
