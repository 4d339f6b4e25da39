{{- define "sluice.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "sluice.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Labels; call with (dict "ctx" $ "component" "edge"). */}}
{{- define "sluice.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .ctx.Chart.Name .ctx.Chart.Version | replace "+" "_" }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
{{ include "sluice.selectorLabels" . }}
{{- end -}}

{{- define "sluice.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sluice.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "sluice.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "sluice.redisBundled" -}}
{{- if and (not .Values.redis.url) (not .Values.redis.existingSecret) -}}true{{- end -}}
{{- end -}}

{{- define "sluice.natsBundled" -}}
{{- if and (not .Values.nats.url) (not .Values.nats.existingSecret) -}}true{{- end -}}
{{- end -}}

{{- define "sluice.relaySecretName" -}}
{{- default (printf "%s-relay" (include "sluice.fullname" .)) .Values.relaySecret.existingSecret -}}
{{- end -}}

{{- define "sluice.apiTokenName" -}}
{{- default (printf "%s-api" (include "sluice.fullname" .)) .Values.apiToken.existingSecret -}}
{{- end -}}

{{/* The config file of a role: listen addresses from .Values.ports under the role's overrides. */}}
{{- define "sluice.mediaConfig" -}}
{{- $base := dict
  "rtmp" (dict "listen" (printf ":%d" (int .ctx.Values.ports.rtmp)))
  "http" (dict "listen" (printf ":%d" (int .ctx.Values.ports.http)))
  "rtsp" (dict "listen" (printf ":%d" (int .ctx.Values.ports.rtsp)) "udp" (dict "enabled" false))
  "api" (dict "listen" (printf ":%d" (int .ctx.Values.ports.api)))
  "log" (dict "format" "json") -}}
{{- $merged := mergeOverwrite $base (deepCopy .config) -}}
{{- /* The drain time comes from <role>.drain, so the pod's grace period always covers it. */ -}}
{{- $_ := set $merged "drain" (dict "timeoutMs" (mul .drainSeconds 1000)) -}}
{{- toPrettyJson $merged -}}
{{- end -}}

{{/* Env shared by every Sluice pod: node id, Redis, NATS. Call with (dict "ctx" $ "role" "edge"). */}}
{{- define "sluice.clusterEnv" -}}
{{- $ := .ctx -}}
{{- $full := include "sluice.fullname" $ -}}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
- name: POD_IP
  valueFrom:
    fieldRef:
      fieldPath: status.podIP
- name: SLUICE_NODE_ID
  value: "$(POD_NAME)"
{{- if $.Values.redis.existingSecret }}
- name: SLUICE_REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ $.Values.redis.existingSecret }}
      key: {{ $.Values.redis.existingSecretKey }}
{{- else if $.Values.redis.url }}
- name: SLUICE_REDIS_URL
  value: {{ $.Values.redis.url | quote }}
{{- else }}
- name: SLUICE_REDIS_URL
  value: {{ printf "redis://%s-redis.%s.svc.%s:6379/0" $full $.Release.Namespace $.Values.clusterDomain | quote }}
{{- end }}
{{- if $.Values.nats.existingSecret }}
- name: SLUICE_NATS_URL
  valueFrom:
    secretKeyRef:
      name: {{ $.Values.nats.existingSecret }}
      key: {{ $.Values.nats.existingSecretKey }}
{{- else if $.Values.nats.url }}
- name: SLUICE_NATS_URL
  value: {{ $.Values.nats.url | quote }}
{{- else }}
- name: SLUICE_NATS_URL
  value: {{ printf "nats://%s-nats.%s.svc.%s:4222" $full $.Release.Namespace $.Values.clusterDomain | quote }}
{{- end }}
{{- if $.Values.nats.credsSecret }}
- name: SLUICE_NATS_CREDS
  value: {{ printf "/etc/sluice-nats/%s" $.Values.nats.credsSecretKey | quote }}
{{- end }}
- name: SLUICE_API_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ include "sluice.apiTokenName" $ }}
      key: {{ $.Values.apiToken.key }}
{{- if ne .role "scheduler" }}
- name: SLUICE_RELAY_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ include "sluice.relaySecretName" $ }}
      key: {{ $.Values.relaySecret.key }}
{{- end }}
{{- end -}}

{{/* Volumes shared by every Sluice pod: the config and the NATS creds. */}}
{{- define "sluice.volumes" -}}
- name: config
  configMap:
    name: {{ include "sluice.fullname" .ctx }}-{{ .role }}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- if .ctx.Values.nats.credsSecret }}
- name: nats-creds
  secret:
    secretName: {{ .ctx.Values.nats.credsSecret }}
{{- end }}
{{- end -}}

{{- define "sluice.volumeMounts" -}}
- name: config
  mountPath: /etc/sluice
  readOnly: true
- name: tmp
  mountPath: /tmp
{{- if .Values.nats.credsSecret }}
- name: nats-creds
  mountPath: /etc/sluice-nats
  readOnly: true
{{- end }}
{{- end -}}

{{/* The command of every Sluice container: the image's program, with the role's config. */}}
{{- define "sluice.command" -}}
command: ["node", "--max-semi-space-size=2", "/app/bin/sluice.js"]
args: [{{ .role | quote }}, "--config", "/etc/sluice/config.json"]
{{- end -}}
