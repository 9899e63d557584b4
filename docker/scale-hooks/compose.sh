#!/bin/sh
# SCALE_HOOK_COMMAND for Docker Compose: scales the Ollama service to the recommended count with
# `docker compose up --scale`, registers every instance with Switchyard (new ones receive jobs at
# once), and before scaling in drains the instances that go, scaling only once they are drained
# (the next recommendation tries again meanwhile). See docs/backends.md, "Scale hooks".
#   COMPOSE_FILE, COMPOSE_PROJECT_NAME  read by docker compose itself
#   SCALE_SERVICE   the Ollama service (default ollama); it must have no container_name or fixed host port
#   SCALE_POOL      the pool this hook scales (default local); other pools' recommendations are ignored
#   INSTANCE_URL    how an instance is reached, {name} its container name (default http://{name}:11434)
set -eu
here=$(dirname "$0")
service=${SCALE_SERVICE:-ollama}
pool=${SCALE_POOL:-local}
default_url='http://{name}:11434'
template=${INSTANCE_URL:-$default_url}
input=$(mktemp)
trap 'rm -f "$input"' EXIT
cat > "$input"
field() { node "$here/switchyard.mjs" field "$input" "$1"; }
url_of() { printf '%s\n' "$template" | sed "s|{name}|$1|g"; }

[ "$(field pool)" = "$pool" ] || exit 0
target=$(field targetInstances)
# Compose numbers replicas 1..N and removes the highest numbers first when scaling in.
instances=$(docker compose ps --all --format '{{.Name}}' "$service" | sort -t- -k2 -n -s)
count=$(printf '%s\n' "$instances" | grep -c . || true)

case "$(field action)" in
  scale_out)
    docker compose up --detach --no-recreate --scale "$service=$target" "$service"
    for name in $(docker compose ps --format '{{.Name}}' "$service"); do
      node "$here/switchyard.mjs" register "$(url_of "$name")" "$pool"
    done
    ;;
  scale_in)
    pending=0
    for name in $(printf '%s\n' "$instances" | tail -n "+$((target + 1))"); do
      state=$(node "$here/switchyard.mjs" drain "$(url_of "$name")")
      # An instance Switchyard never knew gets no jobs: nothing to wait for.
      [ "$state" = drained ] || [ "$state" = unregistered ] || pending=$((pending + 1))
    done
    if [ "$pending" -gt 0 ]; then
      echo "compose.sh: $pending of $((count - target)) instances still finishing their jobs; scaling in later" >&2
      exit 0
    fi
    docker compose up --detach --no-recreate --scale "$service=$target" "$service"
    ;;
esac
