"""Images and binaries for a kind cluster, built from pinned sources.

No container registry is reachable where chaosgate runs, so every image a kind
node needs is built locally from sources served by the Go module proxy and
Debian. The node image is made of:

- ``golang``: the Go toolchain and generated wrapper modules;
- ``gobuilds``: pinned Go components (etcd, CoreDNS, local-path-provisioner,
  metrics-server, containerd, runc, crictl, CNI plugins); ``pause``: the pod
  sandbox compiled from Kubernetes' own C source;
- ``kindsource``: kind's manifests, image names and node files, read from its
  pinned module source;
- ``rootfs``: Debian trees made with debootstrap; ``base``: kind's base image;
- ``archive``: image archives written without Docker; ``catalog``: the images
  a node preloads; ``cni`` and ``iptables``: node-routes, in place of kindnetd;
- ``nodeimage``: ``build_node_image()``, the entry point.

Importing this package is cheap; each module is imported where it is used.
"""
