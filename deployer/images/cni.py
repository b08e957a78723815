"""Pod networking for kind nodes when kindnetd cannot be built.

kind's default CNI, kindnetd, is not served by the Go module proxy (it lives
in a module without release tags: neither ``sigs.k8s.io/kind/images/kindnetd``
nor ``github.com/aojea/kindnet`` resolve). What kindnetd does for a kind
cluster is small: write a ptp + host-local CNI config for the node's pod
range, route every other node's pod range via that node's IP, and masquerade
traffic that leaves the pod network. ``node-routes`` does exactly that with a
shell loop, kubectl, ip and iptables, so multi-node clusters (node loss
scenarios) keep pod-to-pod traffic working.

The manifest goes where kind reads its default CNI manifest
(/kind/manifests/default-cni.yaml) and carries kind's template and patch
markers, so kind fills in the pod subnet and the control plane endpoint.
"""

from __future__ import annotations

import hashlib

from deployer.images import archive

SCRIPT_PATH = "/usr/local/bin/node-routes"
KUBECTL_PATH = "/usr/local/bin/kubectl"
CNI_CONFIG = "/etc/cni/net.d/10-kindnet.conflist"

SCRIPT = r"""#!/bin/sh
# node-routes: this node's CNI config, routes to the other nodes' pod ranges,
# and masquerading of pod traffic that leaves the pod network.
set -u
SA=/var/run/secrets/kubernetes.io/serviceaccount
SERVER="https://${CONTROL_PLANE_ENDPOINT:-${KUBERNETES_SERVICE_HOST}:${KUBERNETES_SERVICE_PORT}}"
CONF=__CNI_CONFIG__

kube() {
  kubectl --server="$SERVER" --certificate-authority="$SA/ca.crt" --token="$(cat "$SA/token")" \
    --request-timeout=10s "$@"
}

write_conf() {
  tmp="$CONF.tmp"
  cat > "$tmp" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "kindnet",
  "plugins": [
    {
      "type": "ptp",
      "ipMasq": false,
      "ipam": {
        "type": "host-local",
        "dataDir": "/run/cni-ipam-state",
        "routes": [{"dst": "0.0.0.0/0"}],
        "ranges": [[{"subnet": "$1"}]]
      },
      "mtu": ${MTU:-1500}
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
  if cmp -s "$tmp" "$CONF"; then rm -f "$tmp"; else mv "$tmp" "$CONF" && echo "wrote $CONF for $1"; fi
}

ensure_masquerade() {
  rule="-s $POD_SUBNET ! -d $POD_SUBNET -m comment --comment node-routes -j MASQUERADE"
  # shellcheck disable=SC2086
  iptables -t nat -C POSTROUTING $rule 2>/dev/null || iptables -t nat -A POSTROUTING $rule
}

FORMAT='{range .items[*]}{.metadata.name}{" "}{.spec.podCIDR}{" "}'
FORMAT="$FORMAT"'{.status.addresses[?(@.type=="InternalIP")].address}{"\n"}{end}'

while :; do
  if nodes=$(kube get nodes -o jsonpath="$FORMAT"); then
    echo "$nodes" | while read -r name cidr ip; do
      [ -n "$cidr" ] && [ -n "$ip" ] || continue
      if [ "$name" = "$NODE_NAME" ]; then
        write_conf "$cidr"
      else
        ip route replace "$cidr" via "$ip" || echo "cannot route $cidr via $ip"
      fi
    done
    ensure_masquerade
  else
    echo "cannot list nodes from $SERVER; retrying"
  fi
  sleep "${INTERVAL_SECONDS:-10}"
done
""".replace("__CNI_CONFIG__", CNI_CONFIG)


def image_ref() -> str:
    """Tagged by content so the manifest always names the script it was made with."""
    return f"localhost/chaosgate/node-routes:{hashlib.sha256(SCRIPT.encode()).hexdigest()[:12]}"


def image_entries() -> list[archive.Entry]:
    """The script; kubectl is added by the caller from the Kubernetes build."""
    return [archive.text_file(SCRIPT_PATH, SCRIPT, mode=0o755)]


MANIFEST_TEMPLATE = """# node-routes: pod networking for kind nodes (see deployer/images/cni.py)
# would you kindly template this file
# would you kindly patch this file
---
kind: ClusterRole
apiVersion: rbac.authorization.k8s.io/v1
metadata:
  name: node-routes
rules:
  - apiGroups: [""]
    resources: [nodes]
    verbs: [get, list, watch]
---
kind: ClusterRoleBinding
apiVersion: rbac.authorization.k8s.io/v1
metadata:
  name: node-routes
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: node-routes
subjects:
  - kind: ServiceAccount
    name: node-routes
    namespace: kube-system
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: node-routes
  namespace: kube-system
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: node-routes
  namespace: kube-system
  labels:
    app: node-routes
    k8s-app: node-routes
spec:
  selector:
    matchLabels:
      app: node-routes
  template:
    metadata:
      labels:
        app: node-routes
        k8s-app: node-routes
    spec:
      hostNetwork: true
      nodeSelector:
        kubernetes.io/os: linux
      tolerations:
      - operator: Exists
      priorityClassName: system-node-critical
      serviceAccountName: node-routes
      containers:
      - name: node-routes
        image: __IMAGE__
        imagePullPolicy: IfNotPresent
        command: [__SCRIPT__]
        env:
        - name: NODE_NAME
          valueFrom:
            fieldRef:
              fieldPath: spec.nodeName
        - name: POD_SUBNET
          value: {{ .PodSubnet }}
        volumeMounts:
        - name: cni-cfg
          mountPath: /etc/cni/net.d
        - name: xtables-lock
          mountPath: /run/xtables.lock
          readOnly: false
        resources:
          requests:
            cpu: "20m"
            memory: "30Mi"
          limits:
            cpu: "100m"
            memory: "80Mi"
        securityContext:
          privileged: false
          capabilities:
            add: ["NET_RAW", "NET_ADMIN"]
      volumes:
      - name: cni-cfg
        hostPath:
          path: /etc/cni/net.d
      - name: xtables-lock
        hostPath:
          path: /run/xtables.lock
          type: FileOrCreate
"""


def manifest() -> str:
    """The default CNI manifest for the node image (still a kind template)."""
    return MANIFEST_TEMPLATE.replace("__IMAGE__", image_ref()).replace("__SCRIPT__", SCRIPT_PATH)
