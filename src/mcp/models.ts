// The registry as an agent sees it: model summaries, search, and model cards (io with shapes, a FLOP and gas
// profile, price, policy, versions, CID), all read from the node's lattice_* index.
import type { IndexedModel } from '../chain/registry-index.ts'
import type { McpContext } from './context.ts'
import { McpInputError, McpUnknownModelError } from './errors.ts'

/** One tensor of a model's io summary; symbolic dims keep their name (`N`, `H`). */
export interface IoTensor {
  name: string
  dtype: string
  shape: (number | string)[]
}

/** The FLOPs and precompile gas of one run at concrete shapes (symbolic dims set to 1), or why there is none. */
export interface FlopsProfile {
  shapes: Record<string, number[]>
  flops?: string
  gas?: string
  error?: string
}

/** A model card: the registry entry plus its io parsed into tensors and a FLOP profile. */
export interface ModelCard {
  modelId: string
  name: string
  version: string
  owner: string
  status: string
  policy: string
  allowlist: string[]
  priceWei: string
  cid: string
  digest: string
  commitment: string
  format: string
  io: string
  inputs: IoTensor[]
  outputs: IoTensor[]
  flopsProfile: FlopsProfile
  versions: { previous: string | null; next: string | null }
  usage: { runs: number; paidInferences: string }
  registered: { block: number; tx: string; updatedBlock: number }
  resourceUri: string
}

/** The short form list_models returns. */
export interface ModelSummary {
  modelId: string
  name: string
  version: string
  owner: string
  status: string
  policy: string
  priceWei: string
  io: string
  cid: string
  runs: number
  /** FLOPs of one run at the sample shapes of the card's profile (symbolic dims 1), when the node could say. */
  flops: string | null
  resourceUri: string
}

/** The resource URI of a model card. */
export const modelUri = (modelId: string) => `lattice://models/${modelId}`

/** Parse the registry's io summary `x:float32[N,4],... -> y:int64[N],...` into tensors. */
export function parseIoSummary(io: string): { inputs: IoTensor[]; outputs: IoTensor[] } {
  const [left = '', right = ''] = io.split(' -> ')
  const side = (s: string): IoTensor[] =>
    [...s.matchAll(/([^:,\s]+):([a-z0-9]+)\[([^\]]*)\]/g)].map((m) => ({
      name: m[1],
      dtype: m[2],
      shape: m[3] === '' ? [] : m[3].split(',').map((d) => (/^\d+$/.test(d) ? Number(d) : d)),
    }))
  return { inputs: side(left), outputs: side(right) }
}

/** A model id argument: 0x + 64 hex digits, lower-cased. */
export function modelIdArg(v: string): string {
  if (!/^0x[0-9a-fA-F]{64}$/.test(v))
    throw new McpInputError(`"${v}" is not a model id. Pass the 0x-prefixed 32-byte id that list_models shows.`)
  return v.toLowerCase()
}

/** Filters of {@link ModelCatalog.list} (lattice_listModels' filter plus a free-text query). */
export interface ModelFilter {
  query?: string
  owner?: string
  name?: string
  status?: 'active' | 'deprecated'
  policy?: 'public' | 'private' | 'allowlist'
  offset?: number
  limit?: number
}

/** Reads of the registry, with FLOP profiles cached per package digest. */
export interface ModelCatalog {
  get(modelId: string): Promise<IndexedModel>
  list(filter: ModelFilter): Promise<{ models: ModelSummary[]; total: number }>
  /** Every registered model (all pages). */
  all(): Promise<IndexedModel[]>
  card(model: IndexedModel): Promise<ModelCard>
}

const PAGE = 1000
/** Larger sample inputs are not worth sending just to learn a FLOP count. */
const MAX_SAMPLE_ELEMENTS = 1 << 20

/** A catalog over the context's node. */
export function createModelCatalog(ctx: McpContext): ModelCatalog {
  const profiles = new Map<string, FlopsProfile>()

  async function get(modelId: string): Promise<IndexedModel> {
    const id = modelIdArg(modelId)
    const m = await ctx.call<IndexedModel | null>('lattice_getModel', [id])
    if (!m) throw new McpUnknownModelError(id, ctx.url)
    return m
  }

  async function all(filter: Omit<ModelFilter, 'query' | 'offset' | 'limit'> = {}): Promise<IndexedModel[]> {
    const out: IndexedModel[] = []
    for (let offset = 0; ; offset += PAGE) {
      const r = await ctx.call<{ models: IndexedModel[]; total: number }>('lattice_listModels', [
        { ...filter, offset, limit: PAGE },
      ])
      out.push(...r.models)
      if (r.models.length < PAGE || out.length >= r.total) return out
    }
  }

  async function list(filter: ModelFilter): Promise<{ models: ModelSummary[]; total: number }> {
    const { query, offset = 0, limit = 20, ...nodeFilter } = filter
    let models: IndexedModel[]
    let total: number
    if (query?.trim()) {
      // free text is matched here: the node filters by exact owner/name/status/policy only
      const words = query.toLowerCase().split(/\s+/).filter(Boolean)
      const hay = (m: IndexedModel) =>
        [m.name, m.version, m.modelId, m.owner, m.io, m.cid, m.policy, m.status].join(' ').toLowerCase()
      const hits = (await all(nodeFilter)).filter((m) => words.every((w) => hay(m).includes(w)))
      total = hits.length
      models = hits.slice(offset, offset + limit)
    } else {
      const r = await ctx.call<{ models: IndexedModel[]; total: number }>('lattice_listModels', [
        { ...nodeFilter, offset, limit },
      ])
      models = r.models
      total = r.total
    }
    const out: ModelSummary[] = []
    // one at a time: a profile loads the model on the node, and results are cached per package
    for (const m of models) out.push(summary(m, (await flopsProfile(m)).flops ?? null))
    return { models: out, total }
  }

  async function flopsProfile(m: IndexedModel): Promise<FlopsProfile> {
    const cached = profiles.get(m.digest)
    if (cached) return cached
    const { inputs } = parseIoSummary(m.io)
    const shapes: Record<string, number[]> = {}
    const sample: Record<string, { dtype: string; shape: number[]; data: number[] }> = {}
    let elements = 0
    for (const t of inputs) {
      const shape = t.shape.map((d) => (typeof d === 'number' ? d : 1))
      const n = shape.reduce((a, b) => a * b, 1)
      elements += n
      shapes[t.name] = shape
      sample[t.name] = { dtype: t.dtype, shape, data: new Array(n).fill(0) }
    }
    let p: FlopsProfile
    if (elements > MAX_SAMPLE_ELEMENTS) {
      p = { shapes, error: `inputs of ${elements} elements; call estimate_inference with your own shapes` }
    } else {
      try {
        const r = await ctx.call<{ flops: string; gas: string }>('lattice_estimateInference', [
          { modelId: m.modelId, inputs: sample },
        ])
        p = { shapes, flops: BigInt(r.flops).toString(), gas: BigInt(r.gas).toString() }
      } catch (err) {
        p = { shapes, error: (err as Error).message }
      }
    }
    profiles.set(m.digest, p)
    return p
  }

  async function card(m: IndexedModel): Promise<ModelCard> {
    const { inputs, outputs } = parseIoSummary(m.io)
    return {
      modelId: m.modelId,
      name: m.name,
      version: m.version,
      owner: m.owner,
      status: m.status,
      policy: m.policy,
      allowlist: m.allowlist,
      priceWei: m.price,
      cid: m.cid,
      digest: m.digest,
      commitment: m.commitment,
      format: m.format,
      io: m.io,
      inputs,
      outputs,
      flopsProfile: await flopsProfile(m),
      versions: { previous: m.previous, next: m.next },
      usage: { runs: m.runs, paidInferences: m.inferences },
      registered: { block: m.registeredBlock, tx: m.registeredTx, updatedBlock: m.updatedBlock },
      resourceUri: modelUri(m.modelId),
    }
  }

  return { get, list, all: () => all(), card }
}

function summary(m: IndexedModel, flops: string | null): ModelSummary {
  return {
    modelId: m.modelId,
    name: m.name,
    version: m.version,
    owner: m.owner,
    status: m.status,
    policy: m.policy,
    priceWei: m.price,
    io: m.io,
    cid: m.cid,
    runs: m.runs,
    flops,
    resourceUri: modelUri(m.modelId),
  }
}
