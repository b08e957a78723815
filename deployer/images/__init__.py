"""Images and binaries for a kind cluster, built from pinned sources.

No container registry is reachable where chaosgate runs, so every image a kind
node needs is built locally from sources served by the Go module proxy and
Debian: ``golang`` (toolchain and wrapper modules), ``gobuilds`` (pinned Go
components), ``base`` (the kind base image) and ``nodeimage`` (the node image).
Importing this package is cheap; each module is imported where it is used.
"""
