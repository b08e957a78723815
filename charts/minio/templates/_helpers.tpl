{{/* Chart name, overridable. */}}
{{- define "minio.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Resource name prefix. Not truncated on purpose: pod host names are part of
every server's endpoint list, so a name that does not fit fails the render in
minio.validateValues instead of being silently shortened.
*/}}
{{- define "minio.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "minio.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "minio.selectorLabels" -}}
app.kubernetes.io/name: {{ include "minio.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: server
{{- end -}}

{{/* Labels of every object, without a component. */}}
{{- define "minio.commonLabels" -}}
helm.sh/chart: {{ include "minio.chart" . }}
app.kubernetes.io/name: {{ include "minio.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: chaosgate
{{- end -}}

{{/* Labels of the servers and the objects that belong to them. */}}
{{- define "minio.labels" -}}
{{ include "minio.commonLabels" . }}
app.kubernetes.io/component: server
{{- end -}}

{{- define "minio.headlessName" -}}
{{- printf "%s-hl" (include "minio.fullname" .) -}}
{{- end -}}

{{- define "minio.secretName" -}}
{{- default (printf "%s-credentials" (include "minio.fullname" .)) .Values.auth.existingSecret -}}
{{- end -}}

{{- define "minio.image" -}}
{{- printf "%s:%s" .Values.image.repository .Values.image.tag -}}
{{- end -}}

{{/* Drives of a pool (the schema default is 1). */}}
{{- define "minio.drives" -}}
{{- if hasKey . "drivesPerServer" -}}{{ int .drivesPerServer }}{{- else -}}1{{- end -}}
{{- end -}}

{{/* Mount path of every drive: /data for one drive, /data1.../dataN for several. */}}
{{- define "minio.drivePaths" -}}
{{- $drives := int (include "minio.drives" .) -}}
{{- if eq $drives 1 -}}
/data
{{- else -}}
{{- range $i := until $drives }}{{ if $i }} {{ end }}/data{{ add1 $i }}{{ end -}}
{{- end -}}
{{- end -}}

{{/*
The endpoint list every server receives: one ellipsis argument per pool, all
pools, in order. A pool is appended by upgrading with a longer `pools` list.
*/}}
{{- define "minio.volumes" -}}
{{- $fullname := include "minio.fullname" . -}}
{{- $host := printf "%s.%s.svc.%s" (include "minio.headlessName" .) .Release.Namespace .Values.clusterDomain -}}
{{- $port := int .Values.containerPorts.api -}}
{{- $args := list -}}
{{- range .Values.pools -}}
{{- $drives := int (include "minio.drives" .) -}}
{{- $path := ternary "/data" (printf "/data{1...%d}" $drives) (eq $drives 1) -}}
{{- $args = append $args (printf "http://%s-%s-{0...%d}.%s:%d%s" $fullname .name (sub (int .servers) 1) $host $port $path) -}}
{{- end -}}
{{- join " " $args -}}
{{- end -}}

{{/* The environment file MinIO reads through MINIO_CONFIG_ENV_FILE. */}}
{{- define "minio.envFile" -}}
# Identical on every server. Rendered by Helm; after a change, restart all servers together.
export MINIO_VOLUMES="{{ include "minio.volumes" . }}"
{{- end -}}

{{/*
Erasure set size MinIO picks for a pool (cmd/endpoint-ellipses.go): the largest
size in 2..16 that divides the pool's drives and spreads evenly over its
servers; 0 when none does. Argument: dict with servers and drives.
*/}}
{{- define "minio.setSize" -}}
{{- $servers := int .servers -}}
{{- $total := mul $servers (int .drives) -}}
{{- $best := 0 -}}
{{- range $size := untilStep 2 17 1 -}}
{{- if eq (mod $total $size) 0 -}}
{{- $even := false -}}
{{- if gt $servers $size -}}{{- $even = eq (mod $servers $size) 0 -}}{{- else -}}{{- $even = eq (mod $size $servers) 0 -}}{{- end -}}
{{- if $even -}}{{- $best = $size -}}{{- end -}}
{{- end -}}
{{- end -}}
{{- $best -}}
{{- end -}}

{{/* MinIO's default parity for an erasure set size (internal/config/storageclass). */}}
{{- define "minio.defaultParity" -}}
{{- $size := int . -}}
{{- if le $size 1 -}}0{{- else if le $size 3 -}}1{{- else if le $size 5 -}}2{{- else if le $size 7 -}}3{{- else -}}4{{- end -}}
{{- end -}}

{{/*
Checks the schema cannot express. Fails the render with the reason and the fix.
*/}}
{{- define "minio.validateValues" -}}
{{- $errors := list -}}
{{- $nodePort := int .Values.service.nodePorts.api -}}
{{- if and (ne $nodePort 0) (lt $nodePort 30000) -}}
{{- $errors = append $errors (printf "service.nodePorts.api=%d is outside the node port range 30000-32767; use 0 to let Kubernetes choose." $nodePort) -}}
{{- end -}}
{{- if .Values.autoscaling.enabled -}}
{{- $errors = append $errors "autoscaling.enabled=true is refused: MinIO must not be autoscaled. A pod added by an autoscaler is in no server's endpoint list and never joins the cluster, and scaling in removes drives that hold shards. Scale by appending a pool to `pools` and restarting all servers together." -}}
{{- end -}}
{{- $fullname := include "minio.fullname" . -}}
{{- $seen := dict -}}
{{- $parity := -1 -}}
{{- range $i, $pool := .Values.pools -}}
{{- if hasKey $seen $pool.name -}}
{{- $errors = append $errors (printf "pools[%d].name %q is used twice: pool names must be unique (each pool is its own StatefulSet)." $i $pool.name) -}}
{{- end -}}
{{- $_ := set $seen $pool.name true -}}
{{- $sts := printf "%s-%s" $fullname $pool.name -}}
{{- if gt (len $sts) 52 -}}
{{- $errors = append $errors (printf "pools[%d]: StatefulSet name %q is %d characters, at most 52 fit (pod names and revision labels add a suffix). Shorten the pool name, the release name or set fullnameOverride." $i $sts (len $sts)) -}}
{{- end -}}
{{- $drives := int (include "minio.drives" $pool) -}}
{{- $total := mul (int $pool.servers) $drives -}}
{{- $setSize := int (include "minio.setSize" (dict "servers" $pool.servers "drives" $drives)) -}}
{{- if lt $setSize 4 -}}
{{- $errors = append $errors (printf "pools[%d] (%s): %d servers x %d drives = %d drives cannot form erasure sets of 4-16 drives spread evenly over the servers (MinIO would pick sets of %d). chaosgate requires sets of at least 4 drives so the default parity is at least EC:2. Use e.g. 4 servers x 1 drive (one server may fail without losing write quorum)." $i $pool.name (int $pool.servers) $drives $total $setSize) -}}
{{- else -}}
{{- if lt $parity 0 -}}
{{- $parity = int (include "minio.defaultParity" $setSize) -}}
{{- else if gt (mul $parity 2) $setSize -}}
{{- $errors = append $errors (printf "pools[%d] (%s): erasure sets of %d drives cannot hold the parity EC:%d that the first pool fixes for the whole cluster (MinIO needs parity <= set size / 2). Give this pool at least %d drives per set." $i $pool.name $setSize $parity (mul $parity 2)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if eq .Values.image.tag "latest" -}}
{{- $errors = append $errors "image.tag \"latest\" is refused: every server must run the same binary, and with IfNotPresent a floating tag runs whatever each node loaded last. Pin a release tag." -}}
{{- end -}}
{{- range .Values.extraEnv -}}
{{- if has .name (list "MINIO_VOLUMES" "MINIO_ROOT_USER" "MINIO_ROOT_PASSWORD" "MINIO_CONFIG_ENV_FILE") -}}
{{- $errors = append $errors (printf "extraEnv sets %s, which the chart owns (endpoint list from pools, credentials from the Secret). Remove it from extraEnv." .name) -}}
{{- end -}}
{{- end -}}
{{- if $errors -}}
{{- fail (printf "\n\nVALUES ERROR (minio chart):\n- %s\n" (join "\n- " $errors)) -}}
{{- end -}}
{{- end -}}
