// Resources: one model card per registered model (lattice://models/{modelId}) and the chain's status
// (lattice://chain/status), all as JSON read from the node when asked.
import { type McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js'
import type { McpContext } from './context.ts'
import { McpInputError } from './errors.ts'
import { type ModelCatalog, modelUri } from './models.ts'
import { chainStatus } from './status.ts'

export const STATUS_URI = 'lattice://chain/status'

const json = (uri: URL, value: unknown) => ({
  contents: [{ uri: uri.href, mimeType: 'application/json', text: `${JSON.stringify(value, null, 2)}\n` }],
})

/** Register the chain status resource and the model card template (listing every registered model). */
export function registerResources(server: McpServer, ctx: McpContext, catalog: ModelCatalog): void {
  server.registerResource(
    'chain-status',
    STATUS_URI,
    {
      title: 'Chain status',
      description: "The node's head block, gas price, chain id, inference profile and registry index",
      mimeType: 'application/json',
    },
    async (uri) => json(uri, await chainStatus(ctx)),
  )

  server.registerResource(
    'model',
    new ResourceTemplate('lattice://models/{modelId}', {
      list: async () => ({
        resources: (await catalog.all()).map((m) => ({
          uri: modelUri(m.modelId),
          name: `${m.name} v${m.version}`,
          title: `${m.name} v${m.version} (${m.status}, ${m.policy}, ${m.price} wei)`,
          description: `Model card of ${m.modelId}: ${m.io}`,
          mimeType: 'application/json',
        })),
      }),
    }),
    {
      title: 'Model card',
      description: 'A registered model: io and shapes, FLOP profile, price, access policy, versions, CID',
      mimeType: 'application/json',
    },
    async (uri, vars) => {
      const id = String(vars.modelId)
      if (!id) throw new McpInputError(`${uri.href} names no model id`)
      return json(uri, await catalog.card(await catalog.get(id)))
    },
  )
}
