#!/usr/bin/env bash
# Installs Lodestar 1.5.1 (the consensus client the network test drives Lattice with) into a git-ignored
# cache dir, reusing an install already there. install.sh lives outside the repo (../shared) because it
# carries the yarn lockfile pinned to the registry these machines reach; LATTICE_LODESTAR_INSTALLER overrides.
# Usage: scripts/lodestar.sh [DIR]   (default .cache/lodestar)   prints the lodestar binary path last.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-${LATTICE_LODESTAR_DIR:-$root/.cache/lodestar}}
installer=${LATTICE_LODESTAR_INSTALLER:-$root/../shared/lodestar/install.sh}
if [[ -x $dir/lodestar ]] && "$dir/lodestar" --version >/dev/null 2>&1; then
  echo "$dir/lodestar"
  exit 0
fi
[[ -f $installer ]] || { echo "lodestar installer not found at $installer (set LATTICE_LODESTAR_INSTALLER)" >&2; exit 1; }
mkdir -p "$dir"
bash "$installer" "$dir" >&2
echo "$dir/lodestar"
