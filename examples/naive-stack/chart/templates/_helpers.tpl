{{/* Labels every object of the chart carries. */}}
{{- define "naive.labels" -}}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}

{{/* The servers' endpoint list, fixed at render time: minio-{0...N-1}. */}}
{{- define "naive.minioVolumes" -}}
{{- printf "http://minio-{0...%d}.minio-hl.%s.svc.cluster.local/data" (sub (int .Values.minio.replicas) 1) .Release.Namespace }}
{{- end }}
