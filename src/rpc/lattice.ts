// lattice_* : the model workflow over JSON-RPC (deploy, list, get, off-chain inference, estimates, node facts).
import { randomBytes } from 'node:crypto'
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bytesToHex, createAddressFromString } from '@ethereumjs/util'
import { AbiCoder, Interface, keccak256 } from 'ethers'
import type { LatticeNode } from '../chain/node.ts'
import type { IndexedModel, ModelQuery, RegistryIndex } from '../chain/registry-index.ts'
import { LatticeError } from '../errors.ts'
import type { ModelAnalysis } from '../inference/analysis.ts'
import { analyseModel } from '../inference/analysis.ts'
import { formatTensorJson, parseTensorJson } from '../inference/json.ts'
import type { Tensor } from '../inference/tensor.ts'
import { INFERENCE_PRECOMPILE_ADDRESS, MODEL_REGISTRY_ADDRESS } from '../precompiles/addresses.ts'
import type { InferencePrecompile } from '../precompiles/inference.ts'
import { isValidFileName } from '../storage/manifest.ts'
import { addModelPackage, readManifest } from '../storage/package.ts'
import type { PinningSummary } from '../storage/pinning.ts'
import type { ModelStore } from '../storage/types.ts'
import { address, paramList } from './codec.ts'
import { invalidParams } from './errors.ts'
import type { Handlers } from './types.ts'

/** What the lattice namespace needs; the CLI builds it (only the CLI constructs ONNX Runtime and IPFS objects). */
export interface LatticeRpcDeps {
  node: LatticeNode
  index: RegistryIndex
  /** The node's IPFS store: packages sent to lattice_deployModel are added here. */
  store: ModelStore
  /** Verified model bytes by manifest CID and digest (the local model cache). */
  models: { getModelBytes(cid: string, digest: string): Promise<Uint8Array> }
  inference: InferencePrecompile
  /** Run a model off-chain; `fast` asks for the machine's best provider instead of the consensus profile. */
  runModel(
    model: { bytes: Uint8Array; digest: string },
    inputs: Tensor[],
    opts: { fast: boolean; outputDecimals?: number },
  ): Promise<{ outputs: Tensor[]; provider: string; profile: string }>
  pinningSummary(): Promise<PinningSummary>
  /** Record a package this node added as pinned (for the pinning summary and rewards). */
  pinPackage(cid: string, digest: string): Promise<void>
  nodeInfo(): Promise<{
    clientVersion: string
    providers: { provider: string; available: boolean }[]
    consensusProfile: string
    stateProfile: string
    onnxruntime: string
    ipfsBackend: string
  }>
  devnet: boolean
}

interface Upload {
  dir: string
  sizes: Map<string, number>
  total: number
  touched: number
}

/** Most bytes in one lattice_uploadChunk (base64 in a 5 MiB request body). */
export const MAX_CHUNK_BYTES = 2 * 1024 * 1024
/** Most bytes in one staged upload. */
const MAX_UPLOAD_BYTES = 16 * 1024 ** 3
/** Staged uploads idle this long are dropped (checked when a new one is created). */
const UPLOAD_TTL_MS = 60 * 60 * 1000

/** Largest model or file accepted inline by lattice_deployModel (the RPC body limit is 5 MiB of base64). */
export const MAX_INLINE_PACKAGE_BYTES = 3 * 1024 * 1024

const POLICY_CODES = { public: 0, private: 1, allowlist: 2 } as const
const MAX_PAGE = 1000
const TENSOR = 'tuple(string name, uint8 dtype, uint64[] shape, bytes data)'
const REGISTRY_ABI = new Interface([
  'function register(tuple(string name, string version, string cid, bytes32 digest, bytes32 commitment, string format, string io, uint8 policy, uint256 price) spec) returns (bytes32)',
  `function infer(bytes32 modelId, ${TENSOR}[] inputs) payable returns (${TENSOR}[])`,
])
const INFERENCE_ABI = new Interface([
  `function estimate(bytes32 modelId, ${TENSOR}[] inputs) view returns (uint256 flops, uint256 gas)`,
])

/** The id ModelRegistry gives a model: keccak256(abi.encode(owner, name, version)). */
export function modelIdOf(owner: string, name: string, version: string): string {
  return keccak256(AbiCoder.defaultAbiCoder().encode(['address', 'string', 'string'], [owner, name, version]))
}

/** ModelRegistry's `ModelSpec` (the argument of register and update). */
export interface RegistrySpec {
  name: string
  version: string
  cid: string
  digest: string
  commitment: string
  format: string
  io: string
  policy: number
  price: bigint
}

/** Calldata of ModelRegistry.register(spec). */
export function encodeRegister(spec: RegistrySpec): string {
  return REGISTRY_ABI.encodeFunctionData('register', [spec])
}

type Obj = Record<string, unknown>

function object(v: unknown, name: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw invalidParams(`invalid argument ${name}: expected an object, got ${show(v)}`)
  return v as Obj
}

function optObject(v: unknown, name: string): Obj {
  return v === undefined || v === null ? {} : object(v, name)
}

function onlyKeys(o: Obj, name: string, keys: readonly string[]): void {
  for (const k of Object.keys(o)) {
    if (!keys.includes(k))
      throw invalidParams(`invalid argument ${name}: unknown field "${k}" (known: ${keys.join(', ')})`)
  }
}

function str(v: unknown, name: string, opts: { max?: number; optional?: boolean } = {}): string | undefined {
  if (v === undefined || v === null) {
    if (opts.optional) return undefined
    throw invalidParams(`missing argument ${name}: expected a non-empty string`)
  }
  if (typeof v !== 'string' || v.length === 0)
    throw invalidParams(`invalid argument ${name}: expected a non-empty string, got ${show(v)}`)
  if (v.length > (opts.max ?? 256))
    throw invalidParams(`invalid argument ${name}: longer than ${opts.max ?? 256} characters`)
  return v
}

function modelIdParam(v: unknown, name = 'modelId'): string {
  if (typeof v !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(v))
    throw invalidParams(
      `invalid argument ${name}: expected a 32-byte hex model id (0x + 64 hex digits), got ${show(v)}`,
    )
  return v.toLowerCase()
}

function uint(v: unknown, name: string, max: number): number | undefined {
  if (v === undefined || v === null) return undefined
  const n = typeof v === 'string' && /^0x[0-9a-fA-F]+$/.test(v) ? Number.parseInt(v, 16) : v
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0 || n > max)
    throw invalidParams(`invalid argument ${name}: expected an integer from 0 to ${max}, got ${show(v)}`)
  return n
}

function wei(v: unknown, name: string): bigint {
  if (v === undefined || v === null) return 0n
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v)
  if (typeof v === 'string' && /^(0x[0-9a-fA-F]{1,64}|[0-9]{1,78})$/.test(v)) {
    const n = BigInt(v)
    if (n < 1n << 256n) return n
  }
  throw invalidParams(`invalid argument ${name}: expected wei as a decimal string or 0x quantity, got ${show(v)}`)
}

function policyParam(v: unknown, name: string): number {
  if (v === undefined || v === null) return 0
  if (typeof v === 'string' && v in POLICY_CODES) return POLICY_CODES[v as keyof typeof POLICY_CODES]
  if (typeof v === 'number' && (v === 0 || v === 1 || v === 2)) return v
  throw invalidParams(`invalid argument ${name}: expected "public", "private" or "allowlist", got ${show(v)}`)
}

function base64(v: unknown, name: string): Uint8Array {
  if (typeof v !== 'string' || v.length === 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(v) || v.length % 4 !== 0)
    throw invalidParams(`invalid argument ${name}: expected the file's bytes as a base64 string`)
  return new Uint8Array(Buffer.from(v, 'base64'))
}

function show(v: unknown): string {
  const s = JSON.stringify(v)
  return s === undefined ? String(v) : s.length > 80 ? `${s.slice(0, 77)}...` : s
}

/** Input tensors in the shared tensor JSON form: `{"x": {"dtype", "shape", "data"}}` or bare arrays. */
function tensorsParam(v: unknown, name: string, model: IndexedModel | undefined, io?: ModelAnalysis): Tensor[] {
  object(v, name)
  try {
    return parseTensorJson({ inputs: v }, { model: io?.io.inputs })
  } catch (err) {
    throw invalidParams(`invalid argument ${name}: ${(err as LatticeError).shortMessage ?? String(err)}`)
  } finally {
    void model
  }
}

/** JSON of tensors as `{"name": {"dtype", "shape", "data"}}` (the `outputs` object of the tensor JSON format). */
function tensorsJson(tensors: readonly Tensor[]): unknown {
  return (JSON.parse(formatTensorJson(tensors)) as { outputs: unknown }).outputs
}

/** The lattice_* handlers. */
export function latticeMethods(deps: LatticeRpcDeps): Handlers {
  const { node, index } = deps
  const analyses = new Map<string, ModelAnalysis>()

  async function known(modelId: string, name = 'modelId'): Promise<IndexedModel> {
    const m = await index.get(modelId)
    if (!m)
      throw invalidParams(`invalid argument ${name}: no model ${modelId} in the registry (see lattice_listModels)`)
    return m
  }

  async function modelBytes(m: IndexedModel): Promise<Uint8Array> {
    try {
      return await deps.models.getModelBytes(m.cid, m.digest)
    } catch (err) {
      throw new LatticeError(
        'MODEL_UNAVAILABLE',
        `model ${m.modelId} (package ${m.cid}) cannot be fetched: ${(err as LatticeError).shortMessage ?? String(err)}`,
      )
    }
  }

  async function analysis(m: IndexedModel): Promise<ModelAnalysis> {
    let a = analyses.get(m.digest)
    if (!a) {
      a = analyseModel(await modelBytes(m))
      analyses.set(m.digest, a)
    }
    return a
  }

  /** Staged uploads (lattice_createUpload / lattice_uploadChunk), for packages too large for one request. */
  const uploads = new Map<string, Upload>()

  function takeUpload(v: unknown, name: string): Upload {
    const up = typeof v === 'string' ? uploads.get(v) : undefined
    if (!up)
      throw invalidParams(`invalid argument ${name}: no upload ${show(v)} (create one with lattice_createUpload)`)
    uploads.delete(v as string)
    return up
  }

  return {
    lattice_createUpload: async (p) => {
      paramList(p, 'lattice_createUpload', 0, 0)
      const now = Date.now()
      for (const [id, u] of uploads) {
        if (now - u.touched > UPLOAD_TTL_MS) {
          uploads.delete(id)
          await rm(u.dir, { recursive: true, force: true })
        }
      }
      const uploadId = `0x${randomBytes(16).toString('hex')}`
      uploads.set(uploadId, {
        dir: await mkdtemp(join(tmpdir(), 'lattice-upload-')),
        sizes: new Map(),
        total: 0,
        touched: now,
      })
      return { uploadId, maxChunkBytes: MAX_CHUNK_BYTES }
    },

    lattice_uploadChunk: async (p) => {
      const [arg] = paramList(p, 'lattice_uploadChunk', 1, 1)
      const o = object(arg, 'chunk')
      onlyKeys(o, 'chunk', ['uploadId', 'name', 'offset', 'data'])
      const up = typeof o.uploadId === 'string' ? uploads.get(o.uploadId) : undefined
      if (!up)
        throw invalidParams(
          `invalid argument chunk.uploadId: no upload ${show(o.uploadId)} (create one with lattice_createUpload)`,
        )
      const name = str(o.name, 'chunk.name') as string
      if (!isValidFileName(name))
        throw invalidParams(`invalid argument chunk.name: ${show(name)} is not a valid package file name`)
      const offset = uint(o.offset, 'chunk.offset', Number.MAX_SAFE_INTEGER)
      const have = up.sizes.get(name) ?? 0
      if (offset !== have)
        throw invalidParams(
          `invalid argument chunk.offset: ${name} has ${have} bytes so far; send the chunk at offset ${have}`,
        )
      const bytes = base64(o.data, 'chunk.data')
      if (bytes.length > MAX_CHUNK_BYTES)
        throw invalidParams(
          `invalid argument chunk.data: ${bytes.length} bytes is more than ${MAX_CHUNK_BYTES} per chunk`,
        )
      if (up.total + bytes.length > MAX_UPLOAD_BYTES)
        throw invalidParams(`invalid argument chunk.data: the upload would pass ${MAX_UPLOAD_BYTES} bytes`)
      await appendFile(join(up.dir, name), bytes)
      up.sizes.set(name, have + bytes.length)
      up.total += bytes.length
      up.touched = Date.now()
      return { name, size: have + bytes.length }
    },

    lattice_nodeInfo: async (p) => {
      paramList(p, 'lattice_nodeInfo', 0, 0)
      const info = await deps.nodeInfo()
      const head = node.chain.head
      const indexed = await index.head()
      return {
        ...info,
        chainId: `0x${node.chain.chainId.toString(16)}`,
        head: { number: `0x${head.header.number.toString(16)}`, hash: bytesToHex(head.hash()) },
        registry: {
          address: MODEL_REGISTRY_ADDRESS,
          indexedBlock: `0x${indexed.number.toString(16)}`,
          models: (await index.list({ limit: 0 })).total,
        },
        devnet: deps.devnet,
      }
    },

    lattice_pinningSummary: async (p) => {
      paramList(p, 'lattice_pinningSummary', 0, 0)
      return deps.pinningSummary()
    },

    lattice_listModels: async (p) => {
      const [arg] = paramList(p, 'lattice_listModels', 0, 1)
      const o = optObject(arg, 'filter')
      onlyKeys(o, 'filter', ['owner', 'name', 'status', 'policy', 'offset', 'limit'])
      const q: ModelQuery = {
        owner: o.owner === undefined || o.owner === null ? undefined : address(o.owner, 'filter.owner').toString(),
        name: str(o.name, 'filter.name', { optional: true }),
        offset: uint(o.offset, 'filter.offset', Number.MAX_SAFE_INTEGER) ?? 0,
        limit: uint(o.limit, 'filter.limit', MAX_PAGE) ?? 100,
      }
      if (o.status !== undefined && o.status !== null) {
        if (o.status !== 'active' && o.status !== 'deprecated')
          throw invalidParams(
            `invalid argument filter.status: expected "active" or "deprecated", got ${show(o.status)}`,
          )
        q.status = o.status
      }
      if (o.policy !== undefined && o.policy !== null) {
        if (typeof o.policy !== 'string' || !(o.policy in POLICY_CODES))
          throw invalidParams(
            `invalid argument filter.policy: expected "public", "private" or "allowlist", got ${show(o.policy)}`,
          )
        q.policy = o.policy as ModelQuery['policy']
      }
      const { models, total } = await index.list(q)
      return { models, total, offset: q.offset, limit: q.limit }
    },

    lattice_getModel: async (p) => {
      const [id] = paramList(p, 'lattice_getModel', 1, 1)
      return (await index.get(modelIdParam(id))) ?? null
    },

    lattice_estimateInference: async (p) => {
      const [arg] = paramList(p, 'lattice_estimateInference', 1, 1)
      const o = object(arg, 'request')
      onlyKeys(o, 'request', ['modelId', 'inputs', 'from'])
      const m = await known(modelIdParam(o.modelId, 'request.modelId'), 'request.modelId')
      const from = o.from === undefined || o.from === null ? undefined : address(o.from, 'request.from')
      const inputs = tensorsParam(o.inputs, 'request.inputs', m, await analysis(m))
      try {
        let flops: bigint
        let gas: bigint
        if (m.policy === 'public' && !from) {
          ;({ flops, gas } = await deps.inference.estimate(
            await node.chain.stateAt(node.chain.head),
            m.modelId,
            inputs,
          ))
        } else {
          // the precompile checks access and price for direct callers; asked as `from`, or as the registry
          // (which has done those checks itself when it forwards a paid call)
          const data = INFERENCE_ABI.encodeFunctionData('estimate', [
            m.modelId,
            inputs.map((t) => [t.name, t.dtype, t.shape.map(BigInt), t.data]),
          ])
          const res = await node.call(
            {
              from: from ?? createAddressFromString(MODEL_REGISTRY_ADDRESS),
              to: createAddressFromString(INFERENCE_PRECOMPILE_ADDRESS),
              data: Buffer.from(data.slice(2), 'hex'),
            },
            node.chain.head,
            // an eth_call may not come from an account with code (EIP-3607); the registry's storage stays
            from ? undefined : new Map([[MODEL_REGISTRY_ADDRESS.toLowerCase(), { code: new Uint8Array() }]]),
          )
          ;[flops, gas] = INFERENCE_ABI.decodeFunctionResult(
            'estimate',
            bytesToHex(res.execResult.returnValue),
          ) as unknown as [bigint, bigint]
        }
        return { modelId: m.modelId, flops: `0x${flops.toString(16)}`, gas: `0x${gas.toString(16)}` }
      } catch (err) {
        if (err instanceof LatticeError && err.code !== 'MODEL_UNAVAILABLE')
          throw invalidParams(`invalid argument request.inputs: ${err.shortMessage}`)
        throw err
      }
    },

    lattice_infer: async (p) => {
      const [arg] = paramList(p, 'lattice_infer', 1, 1)
      const o = object(arg, 'request')
      onlyKeys(o, 'request', ['modelId', 'inputs', 'outputDecimals', 'fast'])
      const m = await known(modelIdParam(o.modelId, 'request.modelId'), 'request.modelId')
      const decimals = uint(o.outputDecimals, 'request.outputDecimals', 77)
      if (o.fast !== undefined && typeof o.fast !== 'boolean')
        throw invalidParams(`invalid argument request.fast: expected a boolean, got ${show(o.fast)}`)
      const inputs = tensorsParam(o.inputs, 'request.inputs', m, await analysis(m))
      const bytes = await modelBytes(m)
      try {
        const r = await deps.runModel({ bytes, digest: m.digest }, inputs, {
          fast: o.fast === true,
          outputDecimals: decimals,
        })
        return { modelId: m.modelId, provider: r.provider, profile: r.profile, outputs: tensorsJson(r.outputs) }
      } catch (err) {
        if (err instanceof LatticeError && (err as { tensor?: string }).tensor !== undefined)
          throw invalidParams(`invalid argument request.inputs: ${err.shortMessage}`)
        if (err instanceof LatticeError && err.code.startsWith('TENSOR'))
          throw invalidParams(`invalid argument request.inputs: ${err.shortMessage}`)
        throw err
      }
    },

    lattice_deployModel: async (p) => {
      const [arg] = paramList(p, 'lattice_deployModel', 1, 1)
      const o = object(arg, 'request')
      onlyKeys(o, 'request', [
        'model',
        'modelFile',
        'files',
        'cid',
        'digest',
        'name',
        'version',
        'policy',
        'price',
        'from',
        'send',
        'inputShapes',
        'upload',
      ])
      const name = str(o.name, 'request.name') as string
      const version = str(o.version, 'request.version', { optional: true }) ?? '1'
      const policy = policyParam(o.policy, 'request.policy')
      const price = wei(o.price, 'request.price')
      const from = o.from === undefined || o.from === null ? undefined : address(o.from, 'request.from')
      if (o.send !== undefined && typeof o.send !== 'boolean')
        throw invalidParams(`invalid argument request.send: expected a boolean, got ${show(o.send)}`)
      const shapes = shapesParam(o.inputShapes)
      const sources = [o.model, o.files, o.cid, o.upload].filter((x) => x !== undefined && x !== null).length
      if (sources !== 1)
        throw invalidParams(
          'invalid argument request: give exactly one of "model" (base64 .onnx bytes), "files" ([{name, data}]), "upload" (an id from lattice_createUpload) or "cid" (an existing package, with "digest")',
        )
      const modelId = from ? modelIdOf(from.toString(), name, version) : null
      if (modelId && (await index.get(modelId))) {
        throw invalidParams(
          `invalid argument request.version: ${from!.toString()} already registered "${name}" version "${version}" (model ${modelId}); pass a new version`,
        )
      }
      const dev = from && node.devAccounts.some((a) => a.address.equals(from))
      const send = o.send ?? (deps.devnet && dev === true)
      if (send && !dev) {
        throw invalidParams(
          `invalid argument request.from: ${from ? `${from.toString()} is not an unlocked dev account` : 'missing'}; pass a dev account, or "send": false to get the unsigned transaction`,
        )
      }

      let cid: string
      let digest: string
      let commitment: string
      let size: number
      let modelBytes: Uint8Array
      if (o.cid !== undefined && o.cid !== null) {
        cid = str(o.cid, 'request.cid') as string
        if (typeof o.digest !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(o.digest))
          throw invalidParams(`invalid argument request.digest: expected the package digest (0x + 64 hex digits)`)
        try {
          const r = await readManifest(deps.store, cid, o.digest)
          digest = r.digest
          commitment = r.manifest.commitment.root
          size = r.manifest.totalSize
          modelBytes = await deps.models.getModelBytes(cid, digest)
        } catch (err) {
          throw invalidParams(
            `invalid argument request.cid: package ${cid} cannot be read with that digest (${(err as LatticeError).shortMessage ?? String(err)})`,
          )
        }
      } else if (o.upload !== undefined && o.upload !== null) {
        const up = takeUpload(o.upload, 'request.upload')
        try {
          const names = [...up.sizes.keys()]
          const models = names.filter((n) => n.toLowerCase().endsWith('.onnx'))
          if (models.length !== 1)
            throw invalidParams(
              `invalid argument request.upload: expected exactly one .onnx file, got ${models.length} (${models.join(', ') || 'none'})`,
            )
          modelBytes = new Uint8Array(await readFile(join(up.dir, models[0])))
          analyse(modelBytes, shapes)
          const pkg = await addModelPackage(deps.store, { dir: up.dir }, { name })
          cid = pkg.manifestCid
          digest = pkg.digest
          commitment = pkg.commitment
          size = pkg.manifest.totalSize
          await deps.pinPackage(cid, digest)
        } finally {
          await rm(up.dir, { recursive: true, force: true })
        }
      } else {
        const files = filesParam(o)
        modelBytes = files.find((f) => f.name.toLowerCase().endsWith('.onnx'))?.data ?? new Uint8Array()
        const dir = await mkdtemp(join(tmpdir(), 'lattice-deploy-'))
        try {
          for (const f of files) await writeFile(join(dir, f.name), f.data)
          analyse(modelBytes, shapes)
          const pkg = await addModelPackage(deps.store, { dir }, { name })
          cid = pkg.manifestCid
          digest = pkg.digest
          commitment = pkg.commitment
          size = pkg.manifest.totalSize
          await deps.pinPackage(cid, digest)
        } finally {
          await rm(dir, { recursive: true, force: true })
        }
      }
      const a = analyse(modelBytes, shapes)
      const spec = { name, version, cid, digest, commitment, format: 'onnx', io: a.ioSummary, policy, price }
      const data = encodeRegister(spec)
      const result = {
        modelId,
        cid,
        digest,
        commitment,
        size,
        flops: a.flops,
        ...(a.flopsNote ? { flopsNote: a.flopsNote } : {}),
        io: a.ioSummary,
        transaction: { ...(from ? { from: from.toString() } : {}), to: MODEL_REGISTRY_ADDRESS, data },
      }
      if (!send) return result
      const hash = await node.sendTransaction({
        from,
        to: createAddressFromString(MODEL_REGISTRY_ADDRESS),
        data: Buffer.from(data.slice(2), 'hex'),
      })
      return { ...result, txHash: bytesToHex(hash) }
    },
  }
}

function analyse(model: Uint8Array, shapes: Record<string, number[]>): ModelAnalysis {
  try {
    return analyseModel(model, shapes)
  } catch (err) {
    throw invalidParams(`invalid argument request.model: ${(err as LatticeError).shortMessage ?? String(err)}`)
  }
}

function shapesParam(v: unknown): Record<string, number[]> {
  if (v === undefined || v === null) return {}
  const o = object(v, 'request.inputShapes')
  const out: Record<string, number[]> = {}
  for (const [k, s] of Object.entries(o)) {
    if (!Array.isArray(s) || s.some((d) => !Number.isSafeInteger(d) || (d as number) < 0))
      throw invalidParams(`invalid argument request.inputShapes.${k}: expected an array of dims, e.g. [1, 3, 224, 224]`)
    out[k] = s as number[]
  }
  return out
}

function filesParam(o: Obj): { name: string; data: Uint8Array }[] {
  let files: { name: string; data: Uint8Array }[]
  if (o.model !== undefined && o.model !== null) {
    const fileName = str(o.modelFile, 'request.modelFile', { optional: true }) ?? 'model.onnx'
    if (!fileName.endsWith('.onnx') || !isValidFileName(fileName))
      throw invalidParams(
        `invalid argument request.modelFile: expected a file name ending in .onnx, got ${show(fileName)}`,
      )
    files = [{ name: fileName, data: base64(o.model, 'request.model') }]
  } else {
    if (!Array.isArray(o.files) || o.files.length === 0)
      throw invalidParams('invalid argument request.files: expected a non-empty array of {name, data}')
    files = o.files.map((f, i) => {
      const e = object(f, `request.files[${i}]`)
      const n = str(e.name, `request.files[${i}].name`) as string
      if (!isValidFileName(n))
        throw invalidParams(`invalid argument request.files[${i}].name: ${show(n)} is not a valid package file name`)
      return { name: n, data: base64(e.data, `request.files[${i}].data`) }
    })
    const names = new Set<string>()
    for (const [i, f] of files.entries()) {
      if (names.has(f.name)) throw invalidParams(`invalid argument request.files[${i}].name: duplicate ${show(f.name)}`)
      names.add(f.name)
    }
    const models = files.filter((f) => f.name.toLowerCase().endsWith('.onnx'))
    if (models.length !== 1)
      throw invalidParams(
        `invalid argument request.files: expected exactly one .onnx file, got ${models.length} (${models.map((m) => m.name).join(', ') || 'none'})`,
      )
  }
  const total = files.reduce((a, f) => a + f.data.length, 0)
  if (total > MAX_INLINE_PACKAGE_BYTES)
    throw invalidParams(
      `invalid argument request.files: ${total} bytes is more than the ${MAX_INLINE_PACKAGE_BYTES} bytes accepted inline; stage it with lattice_createUpload and lattice_uploadChunk, then pass "upload"`,
    )
  return files
}
