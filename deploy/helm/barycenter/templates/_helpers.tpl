{{/* The chart's name, truncated to the 63 characters a label allows. */}}
{{- define "barycenter.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name: <release>-barycenter unless the release already says barycenter. */}}
{{- define "barycenter.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "barycenter.selectorLabels" -}}
app.kubernetes.io/name: {{ include "barycenter.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "barycenter.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "barycenter.selectorLabels" . }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* The Secret and key that hold the database URL. */}}
{{- define "barycenter.databaseSecretName" -}}
{{- if .Values.database.existingSecret }}
{{- .Values.database.existingSecret }}
{{- else }}
{{- printf "%s-database" (include "barycenter.fullname" .) }}
{{- end }}
{{- end }}

{{- define "barycenter.databaseSecretKey" -}}
{{- if .Values.database.existingSecret }}
{{- .Values.database.secretKey }}
{{- else -}}
url
{{- end }}
{{- end }}

{{/* The Secret that holds the users file. */}}
{{- define "barycenter.usersSecretName" -}}
{{- if .Values.userSync.existingSecret }}
{{- .Values.userSync.existingSecret }}
{{- else }}
{{- printf "%s-users" (include "barycenter.fullname" .) }}
{{- end }}
{{- end }}

{{/* The inline users as JSON: a string is taken as written, a list is encoded. */}}
{{- define "barycenter.usersJSON" -}}
{{- if kindIs "string" .Values.userSync.users }}
{{- .Values.userSync.users }}
{{- else }}
{{- toPrettyJson .Values.userSync.users }}
{{- end }}
{{- end }}

{{/* Fails the render on values that cannot work, saying which to set. */}}
{{- define "barycenter.validate" -}}
{{- if and (not .Values.database.existingSecret) (not .Values.config.database.url) }}
{{- fail "set config.database.url or database.existingSecret" }}
{{- end }}
{{- if .Values.userSync.enabled }}
{{- if and .Values.userSync.users .Values.userSync.existingSecret }}
{{- fail "userSync: set userSync.users or userSync.existingSecret, not both" }}
{{- end }}
{{- if not (or .Values.userSync.users .Values.userSync.existingSecret) }}
{{- fail "userSync.enabled is true: set userSync.users (development) or userSync.existingSecret (production)" }}
{{- end }}
{{- if not .Values.userSync.secretKey }}
{{- fail "userSync.secretKey must name the key of the users Secret" }}
{{- end }}
{{- end }}
{{- end }}
