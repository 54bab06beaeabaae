// The example models of `lattice devnet`, registered on a local network through node 1 once blocks are made,
// the way a user deploys: the package goes to node 1's IPFS store (lattice_deployModel), the registration is a
// transaction from dev account 0. The other nodes fetch the bytes from their peers when they execute a block.
import { LatticeError } from '../../errors.ts'
import type { Tensor } from '../../inference/tensor.ts'
import { abiTensors } from '../../rpc/lattice-infer.ts'
import type { CliIO } from '../command.ts'
import { DEVNET_EXAMPLES } from '../devnet-examples.ts'
import { connect, INFERENCE_ABI, INFERENCE_ADDRESS, rpcCall } from '../model-client.ts'
import { deployModelPackage } from '../model-deploy.ts'

/** anvil/Hardhat dev account 0 of the devnet mnemonic (funded in the network genesis too). */
export const DEV_KEY_0 = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'

interface ExampleModelLike {
  name: string
  bytes: Uint8Array
  sampleInput: Tensor[]
}

/** Build the example models (examples/models, TypeScript loaded through tsx as the devnet does). */
async function buildExamples(): Promise<ExampleModelLike[]> {
  try {
    // computed so that `tsc -p tsconfig.build.json` (rootDir src) does not pull examples/ into the build
    const url = new URL('../../../examples/models/index.ts', import.meta.url).href
    const { tsImport } = await import('tsx/esm/api')
    const mod = (await tsImport(url, import.meta.url)) as { exampleModels(o: { only: string[] }): ExampleModelLike[] }
    return mod.exampleModels({ only: DEVNET_EXAMPLES.map((e) => e.model) })
  } catch (err) {
    throw new LatticeError(
      'EXAMPLES_UNAVAILABLE',
      `The example models could not be built (${(err as Error).message}). Run from the Lattice source checkout, or pass --no-examples.`,
    )
  }
}

/** Register the example models on the node at `rpcUrl` from dev account 0; returns what was registered. */
export async function registerNetworkExamples(
  rpcUrl: string,
  io: CliIO,
  warmUrls: string[] = [],
): Promise<{ name: string; modelId: string; cid: string }[]> {
  const models = await buildExamples()
  const conn = await connect({ rpcUrl, privateKey: DEV_KEY_0 }, io, true)
  const out: { name: string; modelId: string; cid: string }[] = []
  try {
    for (const m of models) {
      const r = await deployModelPackage(conn, io, {
        files: [{ name: `${m.name}.onnx`, data: m.bytes }],
        name: m.name,
        version: '1',
        policy: 0,
        price: 0n,
        allow: [],
        shapes: {},
      })
      out.push({ name: m.name, modelId: r.modelId, cid: r.cid })
    }
  } finally {
    conn.close()
  }
  // one eth_call per model on every node before blocks carry inferences: each node fetches the bytes from its
  // peers and starts its consensus runtime now (seconds under load), not inside a consensus client's deadline
  // for building or validating a block (Lodestar gives the Engine API 12 s)
  const { Interface } = await import('ethers')
  const abi = new Interface(INFERENCE_ABI)
  for (const url of warmUrls) {
    for (const [i, m] of models.entries()) {
      const data = abi.encodeFunctionData('infer', [out[i].modelId, abiTensors(m.sampleInput)])
      // best effort: a node one block behind does not know the model yet; it catches up within a few slots
      for (let attempt = 0; attempt < 30; attempt++) {
        const ok = await rpcCall(url, 'eth_call', [{ to: INFERENCE_ADDRESS, data }, 'latest']).then(
          () => true,
          () => false,
        )
        if (ok) break
        await new Promise((r) => setTimeout(r, 2000))
      }
    }
  }
  return out
}
