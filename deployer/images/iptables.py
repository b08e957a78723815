"""Pick the iptables backend the node uses, inside images that run iptables.

A kind node chooses legacy or nft iptables at boot by counting the rules each
backend already holds (kind's entrypoint, select_iptables, after
kubernetes-sigs/iptables-wrappers). kube-proxy and node-routes must write
their rules with the same backend, so in their images the alternatives point
at a wrapper that makes the same choice on first use, repoints the
alternatives at the chosen backend and runs the real command.
"""

from __future__ import annotations

from deployer.images import archive

WRAPPER_PATH = "/usr/sbin/iptables-wrapper"

COMMANDS = (
    "iptables",
    "iptables-save",
    "iptables-restore",
    "ip6tables",
    "ip6tables-save",
    "ip6tables-restore",
)

WRAPPER = r"""#!/bin/sh
# Choose legacy or nft like the kind node's entrypoint, then run the command.
set -eu
legacy=$( (iptables-legacy-save || true; ip6tables-legacy-save || true) 2>/dev/null | grep -c '^-' || true)
nft=$( (timeout 5 sh -c "iptables-nft-save; ip6tables-nft-save" || true) 2>/dev/null | grep -c '^-' || true)
if [ "$legacy" -ge "$nft" ]; then mode=legacy; else mode=nft; fi
for cmd in __COMMANDS__; do
  real=$(echo "$cmd" | sed -E "s/^(ip6?tables)/\1-$mode/")
  ln -sf "/usr/sbin/$real" "/etc/alternatives/$cmd"
done
exec "$0" "$@"
""".replace("__COMMANDS__", " ".join(COMMANDS))


def entries() -> list[archive.Entry]:
    """The wrapper and the alternatives pointing at it (a layer over Debian's)."""
    return [
        archive.text_file(WRAPPER_PATH, WRAPPER, mode=0o755),
        *(archive.symlink(f"/etc/alternatives/{cmd}", WRAPPER_PATH) for cmd in COMMANDS),
    ]
