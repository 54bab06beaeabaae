// Hardhat 3 against a Lattice devnet (docs/hardhat.md). Plain JavaScript: the repository's tsc does not see
// Hardhat's types (they live in this directory's own node_modules, installed by scripts/hardhat.sh).
import { fileURLToPath } from 'node:url'
import hardhatIgnition from '@nomicfoundation/hardhat-ignition'
import hardhatNetworkHelpers from '@nomicfoundation/hardhat-network-helpers'
import { defineConfig } from 'hardhat/config'

export default defineConfig({
  plugins: [hardhatIgnition, hardhatNetworkHelpers],
  // solc-js from npm through `path`: Hardhat downloads no compiler (CI runs offline)
  solidity: {
    version: '0.8.30',
    path: fileURLToPath(new URL('./node_modules/solc/soljson.js', import.meta.url)),
  },
  // build output under node_modules (git-ignored, and outside what the repository's biome and tsc read: Hardhat
  // writes artifacts.d.ts files there)
  paths: {
    artifacts: 'node_modules/.lattice-hardhat/artifacts',
    cache: 'node_modules/.lattice-hardhat/cache',
  },
  networks: {
    // a running `lattice devnet`; its dev accounts are unlocked on the node ('remote')
    lattice: {
      type: 'http',
      url: process.env.LATTICE_RPC_URL ?? 'http://127.0.0.1:8545',
      accounts: 'remote',
    },
  },
})
