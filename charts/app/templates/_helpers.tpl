{{- define "app.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "app.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "app.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "app.selectorLabels" -}}
app.kubernetes.io/name: {{ include "app.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: gateway
{{- end -}}

{{/* Labels of every object, without a component. */}}
{{- define "app.commonLabels" -}}
helm.sh/chart: {{ include "app.chart" . }}
app.kubernetes.io/name: {{ include "app.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: chaosgate
{{- end -}}

{{- define "app.labels" -}}
{{ include "app.commonLabels" . }}
app.kubernetes.io/component: gateway
{{- end -}}

{{- define "app.minioEndpoint" -}}
{{- tpl .Values.minio.endpoint . -}}
{{- end -}}

{{- define "app.minioSecret" -}}
{{- tpl .Values.minio.existingSecret . -}}
{{- end -}}

{{/*
Checks the schema cannot express. Fails the render with the reason and the fix.
*/}}
{{- define "app.validateValues" -}}
{{- $errors := list -}}
{{- $nodePort := int .Values.service.nodePort -}}
{{- if and (ne $nodePort 0) (lt $nodePort 30000) -}}
{{- $errors = append $errors (printf "service.nodePort=%d is outside the node port range 30000-32767; use 0 to let Kubernetes choose." $nodePort) -}}
{{- end -}}
{{- if and .Values.unsafe.ackBeforeWrite (not .Values.unsafe.iUnderstandThisLosesData) -}}
{{- $errors = append $errors "unsafe.ackBeforeWrite=true makes the gateway acknowledge writes before MinIO stores them, so acknowledged objects can be lost. It exists only as a negative control for the chaos suite. Set unsafe.iUnderstandThisLosesData=true as well to render it." -}}
{{- end -}}
{{- if and .Values.autoscaling.enabled (gt (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas)) -}}
{{- $errors = append $errors (printf "autoscaling.minReplicas (%d) is greater than autoscaling.maxReplicas (%d); the HPA would be rejected. Lower minReplicas or raise maxReplicas." (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas)) -}}
{{- end -}}
{{- $endpoint := include "app.minioEndpoint" . -}}
{{- if not (regexMatch "^https?://[a-zA-Z0-9]([-a-zA-Z0-9.]*[a-zA-Z0-9])?:[0-9]{1,5}$" $endpoint) -}}
{{- $errors = append $errors (printf "minio.endpoint %q must be a URL http(s)://host:port without a path (e.g. http://minio:9000), as the gateway reads MINIO_ENDPOINT." $endpoint) -}}
{{- end -}}
{{- if eq .Values.image.tag "latest" -}}
{{- $errors = append $errors "image.tag \"latest\" is refused: pin the tag the deployer built, or pods run whatever each node loaded last." -}}
{{- end -}}
{{- range .Values.extraEnv -}}
{{- if has .name (list "MINIO_ENDPOINT" "GATEWAY_BUCKET" "GATEWAY_BUCKET_VERSIONING" "GATEWAY_NONCURRENT_DAYS" "GATEWAY_PORT" "GATEWAY_ACCESS_KEY" "GATEWAY_SECRET_KEY" "MINIO_ROOT_USER" "MINIO_ROOT_PASSWORD" "GATEWAY_ACK_BEFORE_WRITE") -}}
{{- $errors = append $errors (printf "extraEnv sets %s, which the chart owns (use minio.*, gateway.* or unsafe.* instead). Remove it from extraEnv." .name) -}}
{{- end -}}
{{- end -}}
{{- if $errors -}}
{{- fail (printf "\n\nVALUES ERROR (app chart):\n- %s\n" (join "\n- " $errors)) -}}
{{- end -}}
{{- end -}}
