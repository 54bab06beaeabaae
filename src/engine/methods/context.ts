import type { LatticeNode } from '../../chain/node.ts'
import type { PayloadBuilder } from '../../chain/payload-builder.ts'

/** What the Engine API methods work with. */
export interface EngineContext {
  node: LatticeNode
  builder: PayloadBuilder
  /** A line for the node's log. */
  log: (line: string) => void
  /** `web3_clientVersion`'s text: `Lattice/v<version>/...`. */
  clientVersion: string
}

/** One method: positional params in, JSON result out. */
export type EngineHandler = (params: unknown) => Promise<unknown>

export type EngineHandlers = Record<string, EngineHandler>
