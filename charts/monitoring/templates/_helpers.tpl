{{- define "monitoring.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "monitoring.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "monitoring.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels of every object, without a component. */}}
{{- define "monitoring.commonLabels" -}}
helm.sh/chart: {{ include "monitoring.chart" . }}
app.kubernetes.io/name: {{ include "monitoring.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: chaosgate
{{- end -}}

{{- define "monitoring.selectorLabels" -}}
app.kubernetes.io/name: {{ include "monitoring.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: prometheus
{{- end -}}

{{- define "monitoring.labels" -}}
{{ include "monitoring.commonLabels" . }}
app.kubernetes.io/component: prometheus
{{- end -}}

{{- define "monitoring.alertmanagerSelectorLabels" -}}
app.kubernetes.io/name: {{ include "monitoring.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: alertmanager
{{- end -}}

{{- define "monitoring.alertmanagerLabels" -}}
{{ include "monitoring.commonLabels" . }}
app.kubernetes.io/component: alertmanager
{{- end -}}

{{/* Namespaces whose pods are discovered. */}}
{{- define "monitoring.namespaces" -}}
{{- if .Values.scrape.namespaces -}}
{{- toJson .Values.scrape.namespaces -}}
{{- else -}}
{{- toJson (list .Release.Namespace) -}}
{{- end -}}
{{- end -}}

{{/* Cluster-scoped names must not collide between releases in different namespaces. */}}
{{- define "monitoring.clusterRoleName" -}}
{{- printf "%s-%s" (include "monitoring.fullname" .) .Release.Namespace | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Checks the schema cannot express. Fails the render with the reason and the fix.
*/}}
{{- define "monitoring.validateValues" -}}
{{- $errors := list -}}
{{- $nodePort := int .Values.service.nodePort -}}
{{- if and (ne $nodePort 0) (lt $nodePort 30000) -}}
{{- $errors = append $errors (printf "service.nodePort=%d is outside the node port range 30000-32767; use 0 to let Kubernetes choose." $nodePort) -}}
{{- end -}}
{{- if and .Values.alertmanager.webhookUrl (not .Values.alertmanager.enabled) -}}
{{- $errors = append $errors "alertmanager.webhookUrl is set but alertmanager.enabled=false: no Alertmanager would deliver to it. Set alertmanager.enabled=true or clear the URL." -}}
{{- end -}}
{{- if eq .Values.alerts.minio.name .Values.alerts.app.name -}}
{{- $errors = append $errors (printf "alerts.minio.name and alerts.app.name are both %q: the MinIO and gateway rules would select the same pods. Set each to its chart's app.kubernetes.io/name." .Values.alerts.app.name) -}}
{{- end -}}
{{- if or (eq .Values.image.tag "latest") (eq .Values.alertmanager.image.tag "latest") -}}
{{- $errors = append $errors "image tag \"latest\" is refused (image.tag, alertmanager.image.tag): pin the tag the deployer built." -}}
{{- end -}}
{{- if $errors -}}
{{- fail (printf "\n\nVALUES ERROR (monitoring chart):\n- %s\n" (join "\n- " $errors)) -}}
{{- end -}}
{{- end -}}
