#!/bin/sh
# SCALE_HOOK_COMMAND for Kubernetes: scales the Ollama StatefulSet to the recommended count with
# `kubectl scale`, registers every pod with Switchyard by its stable name (new ones receive jobs at
# once), and before scaling in drains the pods that go (the highest ordinals, as a StatefulSet
# removes them), scaling only once they are drained; the next recommendation tries again
# meanwhile. See docs/backends.md, "Scale hooks".
#   STATEFULSET   the Ollama StatefulSet (default ollama); NAMESPACE (default default)
#   SCALE_POOL    the pool this hook scales (default local); other pools' recommendations are ignored
#   INSTANCE_URL  how pod {i} is reached (default http://{statefulset}-{i}.{statefulset}.{namespace}.svc.cluster.local:11434,
#                 the pod's name under a headless Service named like the StatefulSet)
set -eu
here=$(dirname "$0")
statefulset=${STATEFULSET:-ollama}
namespace=${NAMESPACE:-default}
pool=${SCALE_POOL:-local}
default_url='http://{statefulset}-{i}.{statefulset}.{namespace}.svc.cluster.local:11434'
template=${INSTANCE_URL:-$default_url}
input=$(mktemp)
trap 'rm -f "$input"' EXIT
cat > "$input"
field() { node "$here/switchyard.mjs" field "$input" "$1"; }
url_of() { printf '%s\n' "$template" | sed "s|{statefulset}|$statefulset|g; s|{namespace}|$namespace|g; s|{i}|$1|g"; }

[ "$(field pool)" = "$pool" ] || exit 0
target=$(field targetInstances)
current=$(kubectl get statefulset "$statefulset" --namespace "$namespace" --output 'jsonpath={.spec.replicas}')

case "$(field action)" in
  scale_out)
    kubectl scale statefulset "$statefulset" --namespace "$namespace" --replicas "$target"
    i=0
    while [ "$i" -lt "$target" ]; do
      node "$here/switchyard.mjs" register "$(url_of "$i")" "$pool"
      i=$((i + 1))
    done
    ;;
  scale_in)
    pending=0
    i=$target
    while [ "$i" -lt "$current" ]; do
      state=$(node "$here/switchyard.mjs" drain "$(url_of "$i")")
      # A pod Switchyard never knew gets no jobs: nothing to wait for.
      [ "$state" = drained ] || [ "$state" = unregistered ] || pending=$((pending + 1))
      i=$((i + 1))
    done
    if [ "$pending" -gt 0 ]; then
      echo "kubectl.sh: $pending of $((current - target)) pods still finishing their jobs; scaling in later" >&2
      exit 0
    fi
    kubectl scale statefulset "$statefulset" --namespace "$namespace" --replicas "$target"
    ;;
esac
