// lattice_* : the model workflow over JSON-RPC (deploy, list, get, off-chain inference, estimates, node facts).
import { createHash } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { bytesToHex, createAddressFromString, createZeroAddress } from '@ethereumjs/util'
import { AbiCoder, Interface, type InterfaceAbi, keccak256 } from 'ethers'
import { contractAbi } from '../chain/abi.ts'
import type { LatticeNode } from '../chain/node.ts'
import type { IndexedModel, ModelQuery, RegistryIndex } from '../chain/registry-index.ts'
import { LatticeError } from '../errors.ts'
import type { ModelAnalysis } from '../inference/analysis.ts'
import { analyseModel } from '../inference/analysis.ts'
import type { CheckSessionFactory } from '../inference/deploy-check.ts'
import { DEFAULT_TENSOR_LIMITS, DType, floatToFixedTensor, type Tensor } from '../inference/tensor.ts'
import { validateInputs } from '../inference/validate.ts'
import { INFERENCE_PRECOMPILE_ADDRESS, MODEL_REGISTRY_ADDRESS } from '../precompiles/addresses.ts'
import type { InferencePrecompile } from '../precompiles/inference.ts'
import type { CachedPackage } from '../storage/cache.ts'
import type { PinningSummary } from '../storage/pinning.ts'
import type { ModelStore } from '../storage/types.ts'
import { address, paramList } from './codec.ts'
import { type DeploySource, preparePackage } from './deploy-service.ts'
import { invalidParams } from './errors.ts'
import { abiTensors, createInferenceAccess, hexBytes, INFERENCE_ABI } from './lattice-infer.ts'
import {
  authParam,
  base64,
  filesParam,
  modelIdParam,
  object,
  onlyKeys,
  optObject,
  POLICY_CODES,
  policyParam,
  shapesParam,
  show,
  str,
  tensorsJson,
  tensorsParam,
  uint,
  uploadFilesParam,
  wei,
} from './lattice-params.ts'
import type { Handlers } from './types.ts'
import { createUploadStore, type UploadLimits } from './uploads.ts'

export { MAX_INLINE_PACKAGE_BYTES } from './lattice-params.ts'

/** What the lattice namespace needs; the CLI builds it (only the CLI constructs ONNX Runtime and IPFS objects). */
export interface LatticeRpcDeps {
  node: LatticeNode
  index: RegistryIndex
  /** The node's IPFS store: packages sent to lattice_deployModel are added here. */
  store: ModelStore
  /** Verified model bytes and packages by manifest CID and digest (the local model cache). */
  models: {
    getModelBytes(cid: string, digest: string): Promise<Uint8Array>
    getPackage(cid: string, digest: string): Promise<CachedPackage>
  }
  inference: InferencePrecompile
  /** Run a model off-chain on the machine's best provider (lattice_infer with `fast`). */
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
  /** The profile the precompile runs under (what lattice_infer reports for a call that is not `fast`). */
  stateProfile?: { id: string; provider: string }
  /** Where staged uploads live (default: a temp directory). */
  uploadDir?: string
  /** Bounds on staged uploads (defaults: DEFAULT_UPLOAD_LIMITS, documented in docs/rpc.md). */
  uploadLimits?: Partial<UploadLimits>
  /** Session factory of the deploy load check (default: the consensus runtime's). */
  createSession?: CheckSessionFactory
}

const MAX_PAGE = 1000
const REGISTRY_ABI = new Interface(contractAbi('ModelRegistry') as InterfaceAbi)

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

/** The lattice_* handlers. */
export function latticeMethods(deps: LatticeRpcDeps): Handlers {
  const { node, index } = deps
  const analyses = new Map<string, ModelAnalysis>()
  const isDev = (a: string) => node.devAccounts.some((d) => d.address.toString().toLowerCase() === a.toLowerCase())
  const uploads = createUploadStore({
    chainId: node.chain.chainId,
    dir: deps.uploadDir,
    limits: deps.uploadLimits,
    isDevAccount: (a) => deps.devnet && isDev(a),
  })

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

  const access = createInferenceAccess({ node, inference: deps.inference })

  return {
    lattice_createUpload: async (p) => {
      const [arg] = paramList(p, 'lattice_createUpload', 1, 1)
      const o = object(arg, 'upload')
      onlyKeys(o, 'upload', ['from', 'files', 'expires', 'signature'])
      if (o.from === undefined || o.from === null)
        throw invalidParams('missing argument upload.from: the address that signs the upload')
      const from = address(o.from, 'upload.from').toString()
      const files = uploadFilesParam(o.files, 'upload.files')
      const { expires, signature } = authParam({ expires: o.expires, signature: o.signature }, 'upload')
      const up = await uploads.create({ chainId: node.chain.chainId, sender: from, files, expires }, signature)
      return { uploadId: up.id, maxChunkBytes: uploads.limits.maxChunkBytes, expires: up.expires }
    },

    lattice_uploadChunk: async (p) => {
      const [arg] = paramList(p, 'lattice_uploadChunk', 1, 1)
      const o = object(arg, 'chunk')
      onlyKeys(o, 'chunk', ['uploadId', 'name', 'offset', 'data'])
      if (typeof o.uploadId !== 'string')
        throw invalidParams(`invalid argument chunk.uploadId: no upload ${show(o.uploadId)}`)
      const name = str(o.name, 'chunk.name') as string
      const offset = uint(o.offset, 'chunk.offset', Number.MAX_SAFE_INTEGER) ?? 0
      const bytes = base64(o.data, 'chunk.data')
      return uploads.append(o.uploadId, name, offset, bytes)
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
      const inputs = tensorsParam(o.inputs, 'request.inputs', await analysis(m))
      try {
        let flops: bigint
        let gas: bigint
        if (!from) {
          // no caller: the estimate of the call as the registry forwards it (after its own access checks)
          ;({ flops, gas } = await deps.inference.estimate(
            await node.chain.stateAt(node.chain.head),
            m.modelId,
            inputs,
            MODEL_REGISTRY_ADDRESS,
          ))
        } else {
          // the precompile checks access and price for a direct caller
          const res = await node.call(
            {
              from,
              to: createAddressFromString(INFERENCE_PRECOMPILE_ADDRESS),
              data: hexBytes(INFERENCE_ABI.encodeFunctionData('estimate', [m.modelId, abiTensors(inputs)])),
            },
            node.chain.head,
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
      onlyKeys(o, 'request', ['modelId', 'inputs', 'from', 'outputDecimals', 'fast'])
      const m = await known(modelIdParam(o.modelId, 'request.modelId'), 'request.modelId')
      // an eth_call without `from` comes from the zero address; so does this
      const from =
        o.from === undefined || o.from === null
          ? createZeroAddress().toString()
          : address(o.from, 'request.from').toString()
      const decimals = uint(o.outputDecimals, 'request.outputDecimals', 77)
      if (o.fast !== undefined && typeof o.fast !== 'boolean')
        throw invalidParams(`invalid argument request.fast: expected a boolean, got ${show(o.fast)}`)
      const io = await analysis(m)
      const inputs = tensorsParam(o.inputs, 'request.inputs', io)
      try {
        validateInputs(inputs, io.io.inputs, DEFAULT_TENSOR_LIMITS)
      } catch (err) {
        throw invalidParams(`invalid argument request.inputs: ${(err as LatticeError).shortMessage ?? String(err)}`)
      }
      if (o.fast !== true) {
        const outputs = (await access.inferAsCall(m, from, inputs)).map((t) =>
          decimals !== undefined && (t.dtype === DType.float32 || t.dtype === DType.float16)
            ? floatToFixedTensor(t, decimals)
            : t,
        )
        const profile = deps.stateProfile ?? { id: (await deps.nodeInfo()).stateProfile, provider: 'cpu' }
        return { modelId: m.modelId, provider: profile.provider, profile: profile.id, outputs: tensorsJson(outputs) }
      }
      await access.authoriseFast(m, from, inputs)
      const bytes = await modelBytes(m)
      try {
        const r = await deps.runModel({ bytes, digest: m.digest }, inputs, { fast: true, outputDecimals: decimals })
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
        'auth',
      ])
      const name = str(o.name, 'request.name') as string
      const version = str(o.version, 'request.version', { optional: true }) ?? '1'
      const policy = policyParam(o.policy, 'request.policy')
      const price = wei(o.price, 'request.price')
      let from = o.from === undefined || o.from === null ? undefined : address(o.from, 'request.from')
      if (o.send !== undefined && typeof o.send !== 'boolean')
        throw invalidParams(`invalid argument request.send: expected a boolean, got ${show(o.send)}`)
      const shapes = shapesParam(o.inputShapes)
      const sources = [o.model, o.files, o.cid, o.upload].filter((x) => x !== undefined && x !== null).length
      if (sources !== 1)
        throw invalidParams(
          'invalid argument request: give exactly one of "model" (base64 .onnx bytes), "files" ([{name, data}]), "upload" (an id from lattice_createUpload) or "cid" (an existing package, with "digest")',
        )
      const dev = from !== undefined && isDev(from.toString())
      const send = o.send ?? (deps.devnet && dev)
      if (send && !dev) {
        throw invalidParams(
          `invalid argument request.from: ${from ? `${from.toString()} is not an unlocked dev account` : 'missing'}; pass a dev account, or "send": false to get the unsigned transaction`,
        )
      }
      const auth = o.auth === undefined || o.auth === null ? undefined : authParam(o.auth, 'request.auth')
      // parse the package before anything is stored; a staged upload is the sender's (it signed it)
      let source: DeploySource
      let staged: { dir: string } | undefined
      if (o.cid !== undefined && o.cid !== null) {
        const cid = str(o.cid, 'request.cid') as string
        if (typeof o.digest !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(o.digest))
          throw invalidParams(`invalid argument request.digest: expected the package digest (0x + 64 hex digits)`)
        source = { cid, digest: o.digest }
      } else if (o.upload !== undefined && o.upload !== null) {
        const id = str(o.upload, 'request.upload') as string
        await uploads.sweep()
        const up = uploads.take(id, from?.toString(), 'request.upload')
        from ??= createAddressFromString(up.sender)
        staged = up
        source = { dir: up.dir, sizes: new Map([...up.files.values()].map((f) => [f.name, f.size])) }
      } else {
        const files = filesParam(o)
        // storing bytes needs the sender's authority, as a staged upload does
        if (!from) throw invalidParams('missing argument request.from: the address that signs the upload')
        if (!(deps.devnet && isDev(from.toString()))) {
          if (!auth)
            throw invalidParams(
              'missing argument request.auth: {expires, signature} signing the upload message (docs/rpc.md, "Staged uploads")',
            )
          uploads.authorise(
            {
              chainId: node.chain.chainId,
              sender: from.toString(),
              files: files.map((f) => ({
                name: f.name,
                size: f.data.byteLength,
                sha256: createHash('sha256').update(f.data).digest('hex'),
              })),
              expires: auth.expires,
            },
            auth.signature,
            'request.auth',
          )
        }
        source = { files }
      }
      try {
        const modelId = from ? modelIdOf(from.toString(), name, version) : null
        if (modelId && (await index.get(modelId))) {
          throw invalidParams(
            `invalid argument request.version: ${from!.toString()} already registered "${name}" version "${version}" (model ${modelId}); pass a new version`,
          )
        }
        const pkg = await preparePackage(deps, source, { name, shapes })
        const a = pkg.analysis
        const spec = {
          name,
          version,
          cid: pkg.cid,
          digest: pkg.digest,
          commitment: pkg.commitment,
          format: 'onnx',
          io: a.ioSummary,
          policy,
          price,
        }
        const data = encodeRegister(spec)
        const result = {
          modelId,
          cid: pkg.cid,
          digest: pkg.digest,
          commitment: pkg.commitment,
          size: pkg.size,
          flops: a.flops,
          ...(a.flopsNote ? { flopsNote: a.flopsNote } : {}),
          io: a.ioSummary,
          transaction: { ...(from ? { from: from.toString() } : {}), to: MODEL_REGISTRY_ADDRESS, data },
        }
        if (!send) return result
        const hash = await node.sendTransaction({
          from,
          to: createAddressFromString(MODEL_REGISTRY_ADDRESS),
          data: hexBytes(data),
        })
        return { ...result, txHash: bytesToHex(hash) }
      } finally {
        if (staged) await rm(staged.dir, { recursive: true, force: true })
      }
    },
  }
}
