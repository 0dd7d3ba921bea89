#!/usr/bin/env bash
# Print a pull-request comment (markdown) saying what each changed registry configuration
# changes for pulls, using `registries-translator diff --format markdown`.
#
#   registry-diff.sh BASE_REV [HEAD_REV]      (run inside the git repository)
#
# Looks at every registries.yaml / registries.yml, config.toml and certs.d tree (a changed
# hosts.toml stands for its whole certs.d directory) that differs between the two revisions.
# A file that exists on one side only is compared with an empty one. Prints nothing when no
# registry configuration changed. Exit 0 when it could compare everything (whether or not
# pulls change), 2 when a configuration could not be read (its error is in the comment).
set -euo pipefail

base=${1:?usage: registry-diff.sh BASE_REV [HEAD_REV]}
head=${2:-HEAD}
tool=${REGISTRY_DIFF_TOOL:-registries-translator}   # the command to run

top=$(git rev-parse --show-toplevel)
cd "$top"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/before" "$work/after"
git archive "$base" | tar -x -C "$work/before"
git archive "$head" | tar -x -C "$work/after"

# The configurations that changed: files as they are, hosts.toml as its certs.d directory.
mapfile -t targets < <(
  git diff --name-only --no-renames "$base" "$head" |
  while IFS= read -r path; do
    case "$path" in
      registries.yaml|*/registries.yaml|registries.yml|*/registries.yml|config.toml|*/config.toml)
        printf '%s\n' "$path" ;;
      */hosts.toml) dirname "$(dirname "$path")" ;;
    esac
  done | sort -u
)

status=0
cd "$work"
for target in "${targets[@]}"; do
  for side in before after; do
    if [ ! -e "$side/$target" ]; then
      case "$target" in
        *.yaml|*.yml|*.toml) mkdir -p "$side/$(dirname "$target")"; : > "$side/$target" ;;
        *) mkdir -p "$side/$target" ;;
      esac
    fi
  done
  set +e
  out=$("$tool" diff --format markdown "before/$target" "after/$target" 2>"$work/stderr")
  rc=$?
  set -e
  case $rc in
    0) ;;                                   # same meaning: say nothing about this file
    1) printf '%s\n\n' "$out" ;;
    *) status=2
       printf '**registries-translator** could not read `%s`:\n\n```\n%s\n```\n\n' \
         "$target" "$(grep '^error:' "$work/stderr" || cat "$work/stderr")" ;;
  esac
done
exit $status
