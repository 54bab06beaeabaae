// What every tool and resource of the MCP server shares: the node connection, the signer (or why there is
// none) and one place that turns a node's JSON-RPC failure into an error carrying the node's reason.
import type { Wallet } from 'ethers'
import type { NodeConnection } from '../cli/model-client.ts'
import { errorMessage, LatticeError } from '../errors.ts'
import { McpNodeError, McpReadOnlyError } from './errors.ts'

/** The server's view of one Lattice node. */
export interface McpContext {
  /** The node's JSON-RPC URL (`--rpc-url`). */
  url: string
  chainId: bigint
  conn: NodeConnection
  /** Present only when a key was given and the server is not forced read-only. */
  signer?: Wallet
  /** Why the server is read-only (no key, or --read-only), when it is. */
  readOnlyReason?: string
  /** One JSON-RPC call; failures become {@link McpNodeError} with the node's message. */
  call<T = any>(method: string, params?: unknown[]): Promise<T>
}

/** Options for {@link createMcpContext}. */
export interface McpContextOpts {
  conn: NodeConnection
  /** Force read-only even with a signer on the connection. */
  readOnly?: boolean
}

/** Wrap a connection made by the CLI's `connect` (which unlocks --private-key / --keystore). */
export function createMcpContext(opts: McpContextOpts): McpContext {
  const { conn } = opts
  const signer = opts.readOnly ? undefined : conn.signer
  const readOnlyReason = opts.readOnly
    ? 'started with --read-only'
    : signer
      ? undefined
      : 'no signer: start `lattice mcp` with --private-key, --keystore or LATTICE_PRIVATE_KEY'
  return {
    url: conn.url,
    chainId: conn.chainId,
    conn,
    signer,
    readOnlyReason,
    async call<T>(method: string, params: unknown[] = []): Promise<T> {
      try {
        return await conn.call<T>(method, params)
      } catch (err) {
        if (err instanceof LatticeError) throw new McpNodeError(err.shortMessage, { cause: err })
        throw new McpNodeError(`${method}: ${errorMessage(err)}`, { cause: err })
      }
    },
  }
}

/** The signer, or a read-only error naming the tool that needed it. */
export function requireSigner(ctx: McpContext, what: string): Wallet {
  if (!ctx.signer) throw new McpReadOnlyError(what, ctx.readOnlyReason ?? 'no signer')
  return ctx.signer
}
