"""Pages from chaos/settings.py and chaos/slo.py: options and env vars, SLO
keys, profiles."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import yaml

from chaos import settings, slo
from deployer import paths
from deployer.images import golang, rootfs
from deployer.pins import PINS
from deployer.tools import env_var
from scenarios.refdocs.markdown import HEADER, Undocumented, need, table
from scenarios.refdocs.source import ROOT, attribute_docs, env_vars_in_code, reads

# Env vars that are not chaos-tier options, each with what it does and its default.
OTHER_ENV = {
    paths.CACHE_ENV: (
        "cache folder: tools, Go caches, builds, the fetched Go",
        "`$XDG_CACHE_HOME/chaosgate`, else `~/.cache/chaosgate`",
    ),
    golang.GO_ENV_VAR: (
        "the go binary to build with (used as given, even if old)",
        "`go` on PATH or /usr/local/go if 1.25+, else Go fetched into the cache",
    ),
    "GOPROXY": ("Go module proxies for builds and for fetching Go (Go's syntax)", "https://proxy.golang.org"),
    rootfs.MIRROR_ENV: ("Debian mirror for debootstrap (root filesystems of built images)", rootfs.DEBIAN_MIRROR),
    "CHAOSGATE_REQUIRE_DOCKER": ("`1`: tests that need Docker fail instead of skipping (CI)", "skip without a daemon"),
    "CHAOSGATE_REQUIRE_CHROMIUM": ("`1`: the report rendering test fails instead of skipping without Chromium", "skip"),
    "CHAOSGATE_REQUIRE_PROMETHEUS": (
        "`1`: the live alert-rule test builds Prometheus instead of skipping",
        "skip when not built",
    ),
    "CHAOSGATE_REQUIRE_APISERVER": (
        "`1`: tests against a real kube-apiserver build it instead of skipping",
        "skip when not built",
    ),
}
INTERNAL_ENV_SOURCES = (ROOT / "loadtests", ROOT / "kernel" / "procs.py")
"""Env vars set by the harness for its own subprocesses (the Locust contract,
the owner pid of a run's processes): written here, never set by people."""


def _shown(default: object) -> str:
    if isinstance(default, bool):
        return str(default).lower()
    if isinstance(default, tuple):
        return ",".join(map(str, default)) or "—"
    return "—" if default in (None, "") else str(default)


def _internal() -> set[str]:
    import re  # noqa: PLC0415

    from loadtests.config import AppContract, LoadConfig, env_name  # noqa: PLC0415

    # LoadConfig spells its variables from its fields: the Locust contract.
    found: set[str] = {env_name(f.name) for f in dataclasses.fields(LoadConfig)}
    found |= {env_name(f"app_{f.name}") for f in dataclasses.fields(AppContract)}
    for base in INTERNAL_ENV_SOURCES:
        for path in [base] if base.is_file() else base.rglob("*.py"):
            found.update(re.findall(r"\b(CHAOSGATE_[A-Z0-9_]*[A-Z0-9])\b", path.read_text()))
    return found


def options() -> str:
    rows = []
    for f in settings.fields():
        default = f.default if f.default is not dataclasses.MISSING else ""
        if isinstance(default, Path):
            default = default.relative_to(ROOT) if default.is_relative_to(ROOT) else default
        shown = _shown(default)
        rows.append(
            (
                f"`{f.metadata['flag']}`",
                f"`{f.metadata['env']}`",
                shown,
                need(f.metadata.get("help"), f.metadata["flag"]),
            )
        )
    tools = {env_var(name): name for name in PINS}
    option_envs = {f.metadata["env"] for f in settings.fields()}
    internal = _internal() - option_envs
    undocumented = sorted(env_vars_in_code() - option_envs - set(OTHER_ENV) - set(tools) - internal)
    if undocumented:
        raise Undocumented(f"env var(s) {undocumented} are read by the code but not described in scenarios/refdocs")
    gone = sorted(name for name in OTHER_ENV if name.startswith("CHAOSGATE_") and name not in env_vars_in_code())
    if gone:
        raise Undocumented(f"env var(s) {gone} are described but no code reads them")
    other = [(f"`{name}`", what, default) for name, (what, default) in sorted(OTHER_ENV.items())]
    other += [
        (f"`{var}`", f"path of the {tool} binary to use (skips PATH, cache, download, build)", "resolved")
        for var, tool in sorted(tools.items())
    ]
    return (
        HEADER.format(source="chaos/settings.py and the env vars the code reads")
        + "# Options and environment variables\n\n"
        + "Chaos-tier options are pytest flags after `--` (`tox -e chaos -- --keep-cluster`); each is also read "
        + "from its env var (a flag wins). The effective settings are written into every report. Bad values exit 2 "
        + "before anything is built.\n\n"
        + table(("flag", "env var", "default", "what"), rows)
        + "\n## Other environment variables\n\n"
        + table(("env var", "what", "default"), other)
        + "\nSet by the harness for its own subprocesses, never by hand: "
        + ", ".join(f"`{n}`" for n in sorted(internal))
        + ".\n"
    )


def slo_keys() -> str:
    docs = attribute_docs(ROOT / "chaos" / "slo.py", "Slo")
    defaults = slo.Slo()
    rows = []
    for f in dataclasses.fields(slo.Slo):
        readers = reads(f.name)
        if not readers:
            raise Undocumented(f"SLO key {f.name} is read by no scenario: remove it from chaos/slo.py or use it")
        rows.append(
            (
                f"`{f.name}`",
                f"{getattr(defaults, f.name):g}",
                need(docs.get(f.name), f"SLO key {f.name}"),
                ", ".join(readers),
            )
        )
    return (
        HEADER.format(source="chaos/slo.py")
        + "# SLO keys\n\n"
        + "An SLO file (`--slo-file`, or `slo:` in the target file) is YAML mapping any of these keys to a number; "
        + "keys left out keep their default. The defaults are the same in every profile (profiles change the load "
        + "and the set of scenarios, not the limits). An unknown key, a non-number, or a limit that could never "
        + "fail (a share of 0, a time of 0) exits 2 naming the key. A sample: [slo-sample.yaml](slo-sample.yaml).\n\n"
        + table(("key", "default", "what", "read by"), rows)
    )


def profiles() -> str:
    docs = attribute_docs(ROOT / "chaos" / "slo.py", "Profile")
    names = list(slo.PROFILES)
    rows = []
    for f in dataclasses.fields(slo.Profile):
        if f.name == "name":
            continue
        values = [
            yaml.safe_dump(getattr(slo.PROFILES[n], f.name), default_flow_style=True)
            .strip()
            .removesuffix("...")
            .strip()
            for n in names
        ]
        rows.append(
            (f"`{f.name}`", *values, need(docs.get(f.name) or _PROFILE_FIELDS.get(f.name), f"profile field {f.name}"))
        )
    return (
        HEADER.format(source="chaos/slo.py (PROFILES)")
        + "# Profiles\n\n"
        + "`--profile` picks the load and the scenario set. `extended: true` adds the longer scenarios "
        + "(rolling-restart, node-loss, the partitions, pool-expansion, full-drive). `full` is quick's load with "
        + "every scenario; `standard` has twice the users, longer outages and load windows and larger objects, "
        + "with every scenario, under a lower byte budget per second than quick (more requests, a bounded volume). "
        + "The SLO limits are the same in every profile. A profile name not below exits 2 naming the known ones.\n\n"
        + table(("field", *names, "what"), rows)
    )


_PROFILE_FIELDS = {
    "spawn_rate": "Locust users started per second.",
    "hpa_load_s": "Seconds of load in the HPA scenario: long enough to scale out and hold.",
}
