{{/* Names: every object is <release>-<part>; the release name is usually "ippro". */}}
{{- define "ippro.name" -}}{{ .Release.Name }}{{- end }}

{{- define "ippro.labels" -}}
app.kubernetes.io/name: ippro
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: ippro
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}

{{/* The selector of one component's pods. */}}
{{- define "ippro.selector" -}}
app.kubernetes.io/name: ippro
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "ippro.image" -}}
{{ .Values.image.registry }}{{ .name }}:{{ .Values.image.tag }}
{{- end }}

{{/* The cluster DNS name of one of the chart's Services. */}}
{{- define "ippro.serviceHost" -}}
{{ include "ippro.name" .root }}-{{ .component }}.{{ .root.Release.Namespace }}.svc.cluster.local
{{- end }}

{{- define "ippro.artifactService" -}}
{{- if eq .Values.store.type "artifact-service" }}true{{- else if ne .Values.store.type "s3" }}
{{- fail (printf "store.type must be artifact-service or s3, not %q" .Values.store.type) }}
{{- end }}
{{- end }}

{{- define "ippro.checkValues" -}}
{{- if not (has .Values.certificates.source (list "secret" "cert-manager")) }}
{{- fail (printf "certificates.source must be secret or cert-manager, not %q" .Values.certificates.source) }}
{{- end }}
{{- end }}

{{/* Pod and container security settings shared by every ippro container. */}}
{{- define "ippro.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "ippro.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop:
    - ALL
{{- end }}
