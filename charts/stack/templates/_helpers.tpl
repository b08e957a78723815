{{/* The MinIO subchart's resource name prefix, computed as charts/minio does. */}}
{{- define "stack.minioFullname" -}}
{{- if .Values.minio.fullnameOverride -}}
{{- .Values.minio.fullnameOverride -}}
{{- else -}}
{{- $name := default "minio" .Values.minio.nameOverride -}}
{{- if contains $name .Release.Name -}}{{ .Release.Name }}{{- else -}}{{ printf "%s-%s" .Release.Name $name }}{{- end -}}
{{- end -}}
{{- end -}}

{{- define "stack.minioSecret" -}}
{{- default (printf "%s-credentials" (include "stack.minioFullname" .)) .Values.minio.auth.existingSecret -}}
{{- end -}}

{{- define "stack.appFullname" -}}
{{- if .Values.app.fullnameOverride -}}
{{- .Values.app.fullnameOverride -}}
{{- else -}}
{{- $name := default "app" .Values.app.nameOverride -}}
{{- if contains $name .Release.Name -}}{{ .Release.Name }}{{- else -}}{{ printf "%s-%s" .Release.Name $name }}{{- end -}}
{{- end -}}
{{- end -}}

{{- define "stack.monitoringFullname" -}}
{{- if .Values.monitoring.fullnameOverride -}}
{{- .Values.monitoring.fullnameOverride -}}
{{- else -}}
{{- $name := default "monitoring" .Values.monitoring.nameOverride -}}
{{- if contains $name .Release.Name -}}{{ .Release.Name }}{{- else -}}{{ printf "%s-%s" .Release.Name $name }}{{- end -}}
{{- end -}}
{{- end -}}

{{- define "stack.minioServers" -}}
{{- $total := 0 -}}
{{- range .Values.minio.pools -}}{{- $total = add $total (int .servers) -}}{{- end -}}
{{- $total -}}
{{- end -}}

{{/*
Checks that span the subcharts: each subchart validates itself, but only the
umbrella sees whether they point at each other.
*/}}
{{- define "stack.validateValues" -}}
{{- $errors := list -}}
{{- $minio := include "stack.minioFullname" . -}}
{{- $secret := include "stack.minioSecret" . -}}
{{- if ne .Values.app.minio.existingSecret $secret -}}
{{- $errors = append $errors (printf "app.minio.existingSecret is %q but MinIO's credentials are in Secret %q: the gateway would not start. Set app.minio.existingSecret=%s." .Values.app.minio.existingSecret $secret $secret) -}}
{{- end -}}
{{- if ne .Values.app.minio.userKey .Values.minio.auth.userKey -}}
{{- $errors = append $errors (printf "app.minio.userKey %q differs from minio.auth.userKey %q." .Values.app.minio.userKey .Values.minio.auth.userKey) -}}
{{- end -}}
{{- if ne .Values.app.minio.passwordKey .Values.minio.auth.passwordKey -}}
{{- $errors = append $errors (printf "app.minio.passwordKey %q differs from minio.auth.passwordKey %q." .Values.app.minio.passwordKey .Values.minio.auth.passwordKey) -}}
{{- end -}}
{{- $port := int .Values.minio.service.ports.api -}}
{{- $endpoints := list (printf "http://%s:%d" $minio $port) (printf "http://%s.%s:%d" $minio .Release.Namespace $port) (printf "http://%s.%s.svc:%d" $minio .Release.Namespace $port) (printf "http://%s.%s.svc.%s:%d" $minio .Release.Namespace .Values.minio.clusterDomain $port) -}}
{{- if not (has .Values.app.minio.endpoint $endpoints) -}}
{{- $errors = append $errors (printf "app.minio.endpoint is %q but MinIO's client Service is http://%s:%d. Set app.minio.endpoint=http://%s:%d." .Values.app.minio.endpoint $minio $port $minio $port) -}}
{{- end -}}
{{- if .Values.monitoring.enabled -}}
{{- $minioName := default "minio" .Values.minio.nameOverride -}}
{{- $appName := default "app" .Values.app.nameOverride -}}
{{- if ne .Values.monitoring.alerts.minio.name $minioName -}}
{{- $errors = append $errors (printf "monitoring.alerts.minio.name is %q but the MinIO pods are labelled app.kubernetes.io/name=%s: the MinIO alerts would never fire." .Values.monitoring.alerts.minio.name $minioName) -}}
{{- end -}}
{{- if ne .Values.monitoring.alerts.app.name $appName -}}
{{- $errors = append $errors (printf "monitoring.alerts.app.name is %q but the gateway pods are labelled app.kubernetes.io/name=%s: the gateway alerts would never fire." .Values.monitoring.alerts.app.name $appName) -}}
{{- end -}}
{{- if and .Values.app.autoscaling.enabled (ne (int .Values.monitoring.alerts.app.maxReplicas) (int .Values.app.autoscaling.maxReplicas)) -}}
{{- $errors = append $errors (printf "monitoring.alerts.app.maxReplicas (%d) differs from app.autoscaling.maxReplicas (%d): GatewayAtMaxReplicas would fire at the wrong count. Set both to the same number." (int .Values.monitoring.alerts.app.maxReplicas) (int .Values.app.autoscaling.maxReplicas)) -}}
{{- end -}}
{{- end -}}
{{- if $errors -}}
{{- fail (printf "\n\nVALUES ERROR (stack chart):\n- %s\n" (join "\n- " $errors)) -}}
{{- end -}}
{{- end -}}
