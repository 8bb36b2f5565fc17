{{- define "mr.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "mr.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else if contains (include "mr.name" .) .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name (include "mr.name" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "mr.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mr.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "mr.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "mr.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: migration-rollback
{{- end }}

{{- define "mr.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "mr.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "mr.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{/* What the operator may do where it serves MigrationRollbacks; the same rules whether they
are bound by one ClusterRole or by a Role per watched namespace. */}}
{{- define "mr.workRules" -}}
- apiGroups: [rollback.migrations.dev]
  resources: [migrationrollbacks]
  # patch: kopf's finalizer and progress annotations.
  verbs: [get, list, watch, patch]
- apiGroups: [rollback.migrations.dev]
  resources: [migrationrollbacks/status]
  verbs: [get, patch]
- apiGroups: [""]
  resources: [configmaps]
  # The frozen rollback SQL (an owned ConfigMap), rollback SQL by reference, and the
  # ConfigMap form of maintenance mode.
  verbs: [get, create, patch]
- apiGroups: [""]
  resources: [secrets]
  # Only get: the database URL's identity (for the per-database lock) and maintenance headers.
  # The rollback Job reads the URL itself, by environment variable.
  verbs: [get]
- apiGroups: [""]
  resources: [pods]
  # Watched by label selector while a rollback waits on them: whether the application's
  # pods are gone, and the Job pod's end and termination message (before the Job's status).
  # A Deployment scaled to 0: its ReplicaSets' pods deleted at once (deletecollection).
  verbs: [get, list, watch, deletecollection]
- apiGroups: [""]
  resources: [events]
  # list: a rollback Job without a pod is read its FailedCreate Events (an admission refusal).
  verbs: [create, list]
- apiGroups: [batch]
  resources: [jobs]
  verbs: [get, list, watch, create, delete]
- apiGroups: [apps]
  resources: [deployments, statefulsets]
  verbs: [get, list, watch]
- apiGroups: [apps]
  resources: [deployments]
  # spec.workloads[].revision: previous puts back an earlier ReplicaSet's template.
  verbs: [patch]
- apiGroups: [apps]
  resources: [replicasets]
  verbs: [get, list]
- apiGroups: [apps]
  resources: [deployments/scale, statefulsets/scale]
  verbs: [get, patch]
- apiGroups: [autoscaling]
  resources: [horizontalpodautoscalers]
  verbs: [get, list]
{{- end }}

{{- define "mr.watchNamespaces" -}}
{{- join "," .Values.watchNamespaces }}
{{- end }}

{{/* The rollback Jobs' ServiceAccount: the chart's own where it creates one (namespaced mode),
a user-managed one when create is false, else none (each namespace's default account; the
Jobs never mount its token). */}}
{{- define "mr.jobServiceAccountName" -}}
{{- if and .Values.jobServiceAccount.create .Values.watchNamespaces }}
{{- .Values.jobServiceAccount.name }}
{{- else if not .Values.jobServiceAccount.create }}
{{- .Values.jobServiceAccount.name }}
{{- end }}
{{- end }}

{{/*
Values the schema cannot relate to each other but the operator cannot run with: refused at
install, naming them, rather than installed into a crash loop or two operators acting at once.
*/}}
{{- define "mr.checkValues" -}}
{{- $o := .Values.operator }}
{{- if and (gt (int $o.replicas) 1) (not $o.leaderElection) }}
{{- fail (printf "operator.replicas is %d but operator.leaderElection is false: every replica would act on every MigrationRollback (scale, run Jobs, write status); keep leaderElection true, or run 1 replica" (int $o.replicas)) }}
{{- end }}
{{- if eq (int .Values.ports.metrics) (int .Values.ports.health) }}
{{- fail (printf "ports.metrics and ports.health are both %d: the operator refuses to start so; give each its own port" (int .Values.ports.health)) }}
{{- end }}
{{- end }}
