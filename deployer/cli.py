"""``python -m deployer``: the deployer's command line.

Exit codes: 0 done, 1 the stack misbehaved, 2 bad input or the harness could
not do its job (the message says which and what to do).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from deployer import kind, target, tools, up
from deployer.images.upstream import PullSource
from deployer.pins import PINS
from deployer.up import IMAGE_MODES, UpOptions
from kernel.errors import BadInputError, ChaosgateError


def _cmd_tools(args: argparse.Namespace) -> int:
    names: list[str] = args.names or list(PINS)
    unknown = [n for n in names if n not in PINS]
    if unknown:
        raise BadInputError(f"unknown tool(s) {', '.join(unknown)}; choose from {', '.join(PINS)}")
    resolved = [tools.resolve(n, allow_download=not args.no_download, allow_build=not args.no_build) for n in names]
    if args.json:
        print(json.dumps([tools.describe(t) for t in resolved], indent=2))
        return 0
    width = max(len(t.name) for t in resolved)
    for t in resolved:
        took = f"  ({t.seconds:.0f}s)" if t.seconds else ""
        print(f"{t.name:<{width}}  {t.version:<36} {t.source:<9} {t.path}{took}")
    return 0


def _cmd_host_setup(args: argparse.Namespace) -> int:
    from deployer.hostsetup import host_setup  # noqa: PLC0415 (only this command needs it)

    builds = args.builds == "yes"
    if args.builds == "auto":
        # Images are built only where no registry answers (see `up --images auto`).
        builds = up.effective_mode("auto", _pull_source(args)) == "build"
    changes = host_setup(dry_run=args.dry_run, builds=builds)
    if not changes:
        print("host is ready: nothing to change")
    for change in changes:
        print(("would: " if args.dry_run else "changed: ") + change)
    return 0


def _cmd_registry(args: argparse.Namespace) -> int:
    from deployer.localregistry import LocalRegistry, describe  # noqa: PLC0415 (only this command)

    registry = LocalRegistry(args.address)
    if args.action == "up":
        registry.up()
        print(f"registry answers on http://{args.address}; data in {registry.root}")
    elif args.action == "fill":
        for line in describe(registry.fill(args.node_image), args.address):
            print(line)
    else:
        print("stopped" if registry.down() else f"no registry of ours was running on {args.address}")
    return 0


def _pull_source(args: argparse.Namespace) -> PullSource:
    return PullSource(mirror=args.registry_mirror, node_image=args.node_image)


def _add_pull_source(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--registry-mirror",
        default="",
        metavar="HOST[:PORT][/PATH]",
        help="pull every image from this mirror, as MIRROR/<registry host>/<path> (default: upstream)",
    )
    p.add_argument("--node-image", default="", help="kind node image to pull (default: the pinned kindest/node)")


def _up_options(args: argparse.Namespace) -> UpOptions:
    return UpOptions(
        cluster_name=args.name,
        workers=args.workers,
        images=args.images,
        pull=_pull_source(args),
        reuse=not args.recreate,
        keep_on_failure=args.keep_on_failure,
        variant=args.variant,
        target=target.load(args.target),
    )


def _cmd_up(args: argparse.Namespace) -> int:
    opts = _up_options(args)
    env = up.up(opts)
    creds = opts.target.minio
    secret = f"kubectl --kubeconfig {env.kubeconfig} -n {env.namespace} get secret {creds.secret}"
    print(f"cluster {env.cluster_name} is up with target {opts.target.name}; kubeconfig: {env.kubeconfig}")
    for name, url in env.urls.items():
        print(f"  {name:<11} {url}")
    print("MinIO credentials (never printed here):")
    print(f"  {secret} -o jsonpath='{{.data.{creds.user_key}}}' | base64 -d")
    print(f"  {secret} -o jsonpath='{{.data.{creds.password_key}}}' | base64 -d")
    return 0


def _cmd_down(args: argparse.Namespace) -> int:
    up.down(args.name)
    return 0


def _cmd_status(args: argparse.Namespace) -> int:
    print(json.dumps(up.status(args.name), indent=2))
    return 0


def _cmd_images(args: argparse.Namespace) -> int:
    source = _pull_source(args)
    mode = up.effective_mode("auto" if args.action == "load" else args.action, source)
    node, images = up.resolve_images(mode, source)
    print(f"node image  {node}")
    for component, ref in sorted(images.items()):
        print(f"{component:<11} {ref}")
    from deployer.images import loadgen  # noqa: PLC0415 (heavy, only for `images`)

    # chaosgate's own pods (relay, Locust workers): push it where a cluster that is not kind can pull it.
    print(f"{'helpers':<11} {loadgen.ensure(mode, source)}")
    if args.action == "load":
        cluster = kind.KindCluster(args.name, node_image=node)
        if not cluster.exists():
            raise BadInputError(f"no kind cluster {args.name}: create it with `python -m deployer up` first")
        cluster.load_images(sorted(set(images.values())))
    return 0


def _cmd_exec(args: argparse.Namespace) -> int:
    """Run a pinned tool as resolved (e.g. `tox -e lint` runs actionlint this way)."""
    if args.tool not in PINS:
        raise BadInputError(f"unknown tool {args.tool!r}; choose from {', '.join(PINS)}")
    tool = tools.resolve(args.tool)
    sys.stdout.flush()
    os.execv(tool.path, [str(tool.path), *args.args])  # noqa: S606 (the pinned tool replaces this process)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m deployer", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p_tools = sub.add_parser(
        "tools",
        help=f"resolve {', '.join(PINS)} (PATH, cache, download or build) and print them",
    )
    p_tools.add_argument("names", nargs="*", help=f"tools to resolve (default: all of {', '.join(PINS)})")
    p_tools.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p_tools.add_argument("--no-download", action="store_true", help="never try release downloads")
    p_tools.add_argument("--no-build", action="store_true", help="never build from source")
    p_tools.set_defaults(func=_cmd_tools)

    p_exec = sub.add_parser("exec", help="run a pinned tool (resolved as by `tools`) with the given arguments")
    p_exec.add_argument("tool", help=f"one of {', '.join(PINS)}")
    p_exec.add_argument("args", nargs=argparse.REMAINDER, help="arguments for the tool")
    p_exec.set_defaults(func=_cmd_exec)

    p_host = sub.add_parser(
        "host-setup",
        help="install and start Docker, and fix privileged containers on hosts that lack capabilities",
    )
    p_host.add_argument("--dry-run", action="store_true", help="say what would change, change nothing")
    p_host.add_argument(
        "--builds",
        choices=["no", "yes", "auto"],
        default="auto",
        help="also install what building images from source needs (debootstrap, gcc); "
        "auto (default): only when no container registry answers, as `up` decides",
    )
    _add_pull_source(p_host)
    p_host.set_defaults(func=_cmd_host_setup)

    for name, func, text in (
        ("up", _cmd_up, "create the kind cluster and deploy the stack; print how to reach it"),
        ("down", _cmd_down, "delete the kind cluster and everything in it"),
        ("status", _cmd_status, "show the cluster, its nodes and the stack's pods"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("--name", default="chaosgate", help="kind cluster name (default chaosgate)")
        p.set_defaults(func=func)
        if name == "up":
            p.add_argument("--workers", type=int, default=2, help="worker nodes (default 2)")
            p.add_argument("--images", choices=IMAGE_MODES, default="auto", help="pull, build, or auto (default)")
            p.add_argument(
                "--target", type=Path, default=target.REFERENCE, help="target file of the stack (default: reference)"
            )
            p.add_argument("--variant", default="default", help="a variant of the target (default: none)")
            p.add_argument("--recreate", action="store_true", help="delete an existing cluster of that name first")
            p.add_argument("--keep-on-failure", action="store_true", help="keep the cluster when `up` fails")
            _add_pull_source(p)

    p_images = sub.add_parser("images", help="pull or build every image the cluster and the stack need")
    p_images.add_argument(
        "action",
        choices=["build", "pull", "auto", "load"],
        help="how to get them; load: get them (auto) and copy the stack's images into the cluster's nodes",
    )
    p_images.add_argument("--name", default="chaosgate", help="kind cluster for `load` (default chaosgate)")
    _add_pull_source(p_images)
    p_images.set_defaults(func=_cmd_images)

    p_registry = sub.add_parser(
        "registry",
        help="a registry on loopback, built from source, holding stand-ins for the images pull mode names",
    )
    p_registry.add_argument(
        "action",
        choices=["up", "fill", "down"],
        help="up: build and start it; fill: push the stand-ins (built here); down: stop it",
    )
    p_registry.add_argument("--address", default="127.0.0.1:5001", help="127.0.0.1:PORT (default 127.0.0.1:5001)")
    p_registry.add_argument(
        "--node-image", default="", help="name to push the node image under (default kindest/node:<its version>)"
    )
    p_registry.set_defaults(func=_cmd_registry)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except ChaosgateError as exc:
        kind = "bad input" if isinstance(exc, BadInputError) else type(exc).__name__
        print(f"chaosgate: {kind}: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("chaosgate: interrupted", file=sys.stderr)
        return 130
    return code
