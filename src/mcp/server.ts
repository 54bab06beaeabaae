// The MCP server over one Lattice node: one McpServer per client session (stdio has one; streamable HTTP one
// per session), all sharing the node connection, the model catalog and the registry watcher.
import { readFileSync } from 'node:fs'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import type { McpContext } from './context.ts'
import { createModelCatalog, type ModelCatalog } from './models.ts'
import { registerResources } from './resources.ts'
import { registerReadTools } from './tools.ts'
import { registerWriteTools } from './tools-write.ts'
import { createRegistryWatcher, type RegistryWatcher } from './watch.ts'

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }

/** The name and version MCP clients see. */
export const SERVER_INFO = { name: 'lattice', title: 'Lattice models', version: pkg.version }

/** Options for {@link createMcpHub}. */
export interface McpHubOpts {
  ctx: McpContext
  /** Registry poll period (default 2000 ms). */
  pollMs?: number
  /** Told about failed polls. */
  onError?: (err: unknown) => void
}

/** What the transports share; `session()` builds the McpServer of one client. */
export interface McpHub {
  ctx: McpContext
  catalog: ModelCatalog
  watcher: RegistryWatcher
  session(): McpServer
  close(): void
}

/** Build the shared pieces and start watching the registry. */
export function createMcpHub(opts: McpHubOpts): McpHub {
  const { ctx } = opts
  const catalog = createModelCatalog(ctx)
  const watcher = createRegistryWatcher({ ctx, catalog, intervalMs: opts.pollMs, onError: opts.onError })
  const instructions = [
    `Tools and resources of the Lattice chain at ${ctx.url} (chain id ${ctx.chainId}): ONNX models registered on chain, run by its inference precompile.`,
    'list_models / get_model find a model and its input tensors; call_inference runs it for free with eth_call (the exact bits a transaction would give); estimate_inference prices a run.',
    ctx.signer
      ? "send_inference and deploy_model send transactions from this server's signer and state their cost; get_inference_proof / verify_inference_proof check a mined inference."
      : `This server is read-only (${ctx.readOnlyReason}); get_inference_proof / verify_inference_proof check inferences others sent.`,
  ].join('\n')
  const hub: McpHub = {
    ctx,
    catalog,
    watcher,
    session() {
      const server = new McpServer(SERVER_INFO, {
        instructions,
        capabilities: { resources: { listChanged: true } },
      })
      registerReadTools(server, ctx, catalog)
      if (ctx.signer) registerWriteTools(server, ctx, catalog, () => watcher.poke())
      registerResources(server, ctx, catalog)
      const off = watcher.subscribe(() => {
        if (server.isConnected()) server.sendResourceListChanged()
      })
      const close = server.close.bind(server)
      server.close = async () => {
        off()
        await close()
      }
      return server
    },
    close() {
      watcher.close()
      ctx.conn.close()
    },
  }
  return hub
}
