import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildModel } from '../../src/inference/builder.ts'
import { formatTensorJson } from '../../src/inference/json.ts'
import { createConsensusSession } from '../../src/inference/onnx.ts'
import type { TestDevnet } from '../helpers/devnet.ts'
import { ADDR0, ADDR1, rpc, startTestDevnet } from '../helpers/devnet.ts'
import { exampleModel } from '../helpers/models.ts'

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64')
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')
const IRIS = exampleModel('iris').bytes
const FLOWER = { x: [[5.1, 3.5, 1.4, 0.2]] }
/** A model with a random op: never deployable. */
const RANDOM = buildModel({
  inputs: [{ name: 'x', elemType: 1, shape: [1, 4] }],
  outputs: [{ name: 'y', elemType: 1, shape: [1, 4] }],
  nodes: [{ op: 'RandomNormalLike', inputs: ['x'], outputs: ['y'] }],
})
/** A model with static shapes, so its FLOPs are known at deploy time. */
const STATIC = buildModel({
  inputs: [{ name: 'x', elemType: 1, shape: [2, 3] }],
  outputs: [{ name: 'y', elemType: 1, shape: [2, 2] }],
  initializers: [{ name: 'w', elemType: 1, dims: [3, 2], data: new Float32Array([1, 2, 3, 4, 5, 6]) }],
  nodes: [{ op: 'MatMul', inputs: ['x', 'w'], outputs: ['y'] }],
})

describe('lattice_* RPC', () => {
  let devnet: TestDevnet
  let irisId: string
  let irisCid: string
  let irisDigest: string
  let staticId: string
  const call = (method: string, params?: unknown) =>
    fetch(devnet.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    }).then((r) => r.json() as Promise<any>)

  beforeAll(async () => {
    devnet = await startTestDevnet()
  })
  afterAll(async () => {
    await devnet?.stop()
  })

  describe('success', () => {
    it('lattice_deployModel adds model bytes to IPFS and registers them from a dev account', async () => {
      const r = await rpc(devnet.url, 'lattice_deployModel', [{ model: b64(IRIS), name: 'iris', from: ADDR0 }])
      expect(r.error).toBeUndefined()
      expect(r.result.modelId).toMatch(/^0x[0-9a-f]{64}$/)
      expect(r.result.txHash).toMatch(/^0x[0-9a-f]{64}$/)
      expect(r.result).toMatchObject({ flops: null, io: 'x:float32[N,4] -> probabilities:float32[N,3],class:int64[N]' })
      const receipt = await rpc(devnet.url, 'eth_getTransactionReceipt', [r.result.txHash])
      expect(receipt.result.status).toBe('0x1')
      ;({ modelId: irisId, cid: irisCid, digest: irisDigest } = r.result)
      // the bytes are on the node's IPFS store under that CID and digest
      expect(Buffer.from(await devnet.modelCache.getModelBytes(irisCid, irisDigest)).equals(Buffer.from(IRIS))).toBe(
        true,
      )
    })

    it('lattice_deployModel takes a package (files), counts FLOPs for static shapes', async () => {
      const r = await rpc(devnet.url, 'lattice_deployModel', [
        {
          files: [
            { name: 'matmul.onnx', data: b64(STATIC) },
            { name: 'config.json', data: b64(new TextEncoder().encode('{"a":1}')) },
          ],
          name: 'matmul',
          version: '2',
          policy: 'allowlist',
          price: '1000',
          from: ADDR0,
        },
      ])
      expect(r.error).toBeUndefined()
      expect(r.result.flops).toBe(24)
      staticId = r.result.modelId
      const m = (await rpc(devnet.url, 'lattice_getModel', [staticId])).result
      expect(m).toMatchObject({ name: 'matmul', version: '2', policy: 'allowlist', price: '1000', status: 'active' })
    })

    it('lattice_deployModel returns an unsigned transaction for a non-dev account, and accepts an existing CID', async () => {
      const stranger = '0x000000000000000000000000000000000000bEEF'
      const r = await rpc(devnet.url, 'lattice_deployModel', [
        { cid: irisCid, digest: irisDigest, name: 'iris', version: '9', from: stranger },
      ])
      expect(r.error).toBeUndefined()
      expect(r.result.txHash).toBeUndefined()
      expect(r.result.cid).toBe(irisCid)
      expect(r.result.transaction).toMatchObject({ to: '0xa110000000000000000000000000000000000001' })
      expect(r.result.transaction.data).toMatch(/^0x[0-9a-f]+$/)
      // nothing was registered
      expect((await rpc(devnet.url, 'lattice_getModel', [r.result.modelId])).result).toBeNull()
    })

    it('lattice_createUpload + lattice_uploadChunk stage a package in chunks for lattice_deployModel', async () => {
      // a devnet's dev account needs no signature (test/rpc/uploads.test.ts covers signed uploads)
      const files = [{ name: 'm.onnx', size: STATIC.length, sha256: sha256(STATIC) }]
      const expires = Math.floor(Date.now() / 1000) + 600
      const up = (await rpc(devnet.url, 'lattice_createUpload', [{ from: ADDR0, files, expires }])).result
      expect(up.uploadId).toMatch(/^0x[0-9a-f]{32}$/)
      expect(up.maxChunkBytes).toBe(2 * 1024 * 1024)
      const half = Math.floor(STATIC.length / 2)
      const parts = [STATIC.subarray(0, half), STATIC.subarray(half)]
      let offset = 0
      for (const part of parts) {
        const r = await rpc(devnet.url, 'lattice_uploadChunk', [
          { uploadId: up.uploadId, name: 'm.onnx', offset, data: b64(part) },
        ])
        offset += part.length
        expect(r.result).toEqual({ name: 'm.onnx', size: offset })
      }
      const r = await rpc(devnet.url, 'lattice_deployModel', [
        { upload: up.uploadId, name: 'staged', from: ADDR0, send: false },
      ])
      expect(r.error).toBeUndefined()
      expect(r.result.flops).toBe(24)
      expect(
        Buffer.from(await devnet.modelCache.getModelBytes(r.result.cid, r.result.digest)).equals(Buffer.from(STATIC)),
      ).toBe(true)
      // an upload is used once
      const again = await call('lattice_deployModel', [{ upload: up.uploadId, name: 'staged', from: ADDR0 }])
      expect(again.error.message).toMatch(/request\.upload: no upload/)
    })

    it('lattice_listModels filters and paginates from the index', async () => {
      const all = (await rpc(devnet.url, 'lattice_listModels', [])).result
      expect(all.total).toBe(2)
      expect(all.models.map((m: any) => m.name)).toEqual(['iris', 'matmul'])
      expect((await rpc(devnet.url, 'lattice_listModels', [{ name: 'matmul' }])).result.total).toBe(1)
      expect((await rpc(devnet.url, 'lattice_listModels', [{ owner: ADDR1 }])).result.total).toBe(0)
      expect((await rpc(devnet.url, 'lattice_listModels', [{ owner: ADDR0, policy: 'public' }])).result.total).toBe(1)
      expect((await rpc(devnet.url, 'lattice_listModels', [{ status: 'deprecated' }])).result.total).toBe(0)
      const page = (await rpc(devnet.url, 'lattice_listModels', [{ offset: 1, limit: 1 }])).result
      expect(page).toMatchObject({ total: 2, offset: 1, limit: 1 })
      expect(page.models.map((m: any) => m.name)).toEqual(['matmul'])
    })

    it('lattice_getModel returns the entry, or null for an unknown id', async () => {
      const m = (await rpc(devnet.url, 'lattice_getModel', [irisId])).result
      expect(m).toMatchObject({ modelId: irisId, owner: ADDR0.toLowerCase(), cid: irisCid, digest: irisDigest })
      expect((await rpc(devnet.url, 'lattice_getModel', [`0x${'12'.repeat(32)}`])).result).toBeNull()
    })

    it('lattice_infer runs off-chain and agrees with a direct ONNX Runtime run', async () => {
      const r = await rpc(devnet.url, 'lattice_infer', [{ modelId: irisId, inputs: FLOWER }])
      expect(r.error).toBeUndefined()
      // the precompile's profile: what a block would compute
      expect(r.result.profile).toBe((await rpc(devnet.url, 'lattice_nodeInfo', [])).result.stateProfile)
      const session = await createConsensusSession({ model: IRIS })
      const { parseTensorJson } = await import('../../src/inference/json.ts')
      const want = await session.run(parseTensorJson({ inputs: FLOWER }, { model: session.inputs }))
      await session.dispose()
      expect(r.result.outputs).toEqual(JSON.parse(formatTensorJson(want)).outputs)
      const fast = await rpc(devnet.url, 'lattice_infer', [{ modelId: irisId, inputs: FLOWER, fast: true }])
      expect(fast.result.profile).toMatch(/^fast-/)
      const fixed = await rpc(devnet.url, 'lattice_infer', [{ modelId: irisId, inputs: FLOWER, outputDecimals: 4 }])
      expect(fixed.result.outputs.probabilities.dtype).toBe('fixed4')
    })

    it('lattice_estimateInference gives the precompile estimate', async () => {
      const r = await rpc(devnet.url, 'lattice_estimateInference', [
        {
          modelId: staticId,
          inputs: {
            x: [
              [1, 2, 3],
              [4, 5, 6],
            ],
          },
        },
      ])
      expect(r.error).toBeUndefined()
      expect(BigInt(r.result.flops)).toBe(24n)
      expect(BigInt(r.result.gas)).toBeGreaterThan(0n)
      // a public model is estimated straight from the precompile, for any caller
      const iris = await rpc(devnet.url, 'lattice_estimateInference', [{ modelId: irisId, inputs: FLOWER }])
      expect(BigInt(iris.result.flops)).toBeGreaterThan(0n)
    })

    it('lattice_pinningSummary counts the packages deployed through this node', async () => {
      const r = (await rpc(devnet.url, 'lattice_pinningSummary', [])).result
      expect(r.pinnedModels).toBe(3)
      expect(r.bytes).toBeGreaterThan(IRIS.length)
    })

    it('lattice_nodeInfo names the client, providers, consensus profile and IPFS backend', async () => {
      const r = (await rpc(devnet.url, 'lattice_nodeInfo', [])).result
      expect(r.clientVersion).toMatch(/^Lattice\/v/)
      expect(r.consensusProfile).toMatch(/^consensus-v\d+$/)
      expect(r.ipfsBackend).toBe('embedded')
      expect(r.providers).toContainEqual({ provider: 'cpu', available: true })
      expect(r.registry).toMatchObject({ models: 2 })
      expect(r.devnet).toBe(true)
    })
  })

  describe('invalid parameters are -32602 naming the parameter', () => {
    const id = () => irisId
    let staged = ''
    const uploadId = () => staged
    beforeAll(async () => {
      const files = [{ name: 'a.onnx', size: 4, sha256: sha256(new Uint8Array(4)) }]
      const expires = Math.floor(Date.now() / 1000) + 600
      staged = (await rpc(devnet.url, 'lattice_createUpload', [{ from: ADDR0, files, expires }])).result.uploadId
    })
    const cases: [string, string, () => unknown, RegExp][] = [
      // lattice_deployModel
      ['deployModel', 'params not an array', () => ({ name: 'x' }), /expects positional parameters/],
      ['deployModel', 'no request', () => [], /missing value for required argument 0/],
      ['deployModel', 'request not an object', () => ['x'], /request: expected an object/],
      ['deployModel', 'unknown field', () => [{ name: 'a', model: b64(IRIS), colour: 1 }], /unknown field "colour"/],
      ['deployModel', 'missing name', () => [{ model: b64(IRIS) }], /missing argument request\.name/],
      [
        'deployModel',
        'empty name',
        () => [{ model: b64(IRIS), name: '' }],
        /request\.name: expected a non-empty string/,
      ],
      ['deployModel', 'version not a string', () => [{ model: b64(IRIS), name: 'a', version: 2 }], /request\.version/],
      [
        'deployModel',
        'bad policy',
        () => [{ model: b64(IRIS), name: 'a', policy: 'open' }],
        /request\.policy: expected "public"/,
      ],
      [
        'deployModel',
        'bad price',
        () => [{ model: b64(IRIS), name: 'a', price: '-1' }],
        /request\.price: expected wei/,
      ],
      ['deployModel', 'bad from', () => [{ model: b64(IRIS), name: 'a', from: '0x12' }], /request\.from/],
      [
        'deployModel',
        'send not a boolean',
        () => [{ model: b64(IRIS), name: 'a', send: 'yes' }],
        /request\.send: expected a boolean/,
      ],
      ['deployModel', 'no source', () => [{ name: 'a' }], /exactly one of "model".*"files".*"cid"/],
      ['deployModel', 'two sources', () => [{ name: 'a', model: b64(IRIS), cid: 'bafy' }], /exactly one of/],
      [
        'deployModel',
        'model not base64',
        () => [{ name: 'a', model: '!!!', from: ADDR0 }],
        /request\.model: expected the file's bytes as a base64/,
      ],
      [
        'deployModel',
        'modelFile not .onnx',
        () => [{ name: 'a', model: b64(IRIS), modelFile: 'm.txt', from: ADDR0 }],
        /request\.modelFile/,
      ],
      [
        'deployModel',
        'files empty',
        () => [{ name: 'a', files: [], from: ADDR0 }],
        /request\.files: expected a non-empty array/,
      ],
      [
        'deployModel',
        'file name invalid',
        () => [{ name: 'a', files: [{ name: '../x.onnx', data: b64(IRIS) }], from: ADDR0 }],
        /request\.files\[0\]\.name/,
      ],
      [
        'deployModel',
        'file data invalid',
        () => [{ name: 'a', files: [{ name: 'x.onnx', data: 5 }], from: ADDR0 }],
        /request\.files\[0\]\.data/,
      ],
      [
        'deployModel',
        'duplicate files',
        () => [
          {
            name: 'a',
            files: [
              { name: 'x.onnx', data: b64(IRIS) },
              { name: 'x.onnx', data: b64(IRIS) },
            ],
            from: ADDR0,
          },
        ],
        /request\.files\[1\]\.name: duplicate/,
      ],
      [
        'deployModel',
        'two onnx files',
        () => [
          {
            name: 'a',
            files: [
              { name: 'x.onnx', data: b64(IRIS) },
              { name: 'y.onnx', data: b64(IRIS) },
            ],
            from: ADDR0,
          },
        ],
        /exactly one \.onnx file, got 2/,
      ],
      [
        'deployModel',
        'not an ONNX model',
        () => [{ name: 'a', model: b64(new TextEncoder().encode('hello world!')), from: ADDR0 }],
        /request\.model: the file is not an ONNX model/,
      ],
      [
        'deployModel',
        'random ops',
        () => [{ name: 'a', model: b64(RANDOM), from: ADDR0 }],
        /request\.model: the model uses nondeterministic ops \(RandomNormalLike/,
      ],
      [
        'deployModel',
        'bad inputShapes',
        () => [{ name: 'a', model: b64(IRIS), inputShapes: { x: 'big' }, from: ADDR0 }],
        /request\.inputShapes\.x/,
      ],
      [
        'deployModel',
        'cid without digest',
        () => [{ name: 'a', cid: irisCid, from: ADDR0 }],
        /request\.digest: expected the package digest/,
      ],
      [
        'deployModel',
        'cid with wrong digest',
        () => [{ name: 'a', cid: irisCid, digest: `0x${'00'.repeat(32)}`, from: ADDR0 }],
        /request\.cid: package .* cannot be read with that digest/,
      ],
      [
        'deployModel',
        'send from a non-dev account',
        () => [{ name: 'a', model: b64(IRIS), from: '0x000000000000000000000000000000000000bEEF', send: true }],
        /request\.from: 0x.* is not an unlocked dev account/,
      ],
      [
        'deployModel',
        'version already registered',
        () => [{ name: 'iris', model: b64(IRIS), from: ADDR0 }],
        /request\.version: .* already registered "iris" version "1"/,
      ],
      [
        'deployModel',
        'unknown upload',
        () => [{ name: 'a', upload: '0x1234', from: ADDR0 }],
        /request\.upload: no upload "0x1234"/,
      ],
      // lattice_createUpload / lattice_uploadChunk
      ['createUpload', 'not an object', () => [1], /upload: expected an object/],
      ['createUpload', 'no sender', () => [{ files: [], expires: 1 }], /missing argument upload\.from/],
      ['uploadChunk', 'no chunk', () => [], /missing value for required argument 0/],
      ['uploadChunk', 'chunk not an object', () => ['x'], /chunk: expected an object/],
      [
        'uploadChunk',
        'unknown field',
        () => [{ uploadId: '0x1', name: 'a.onnx', offset: 0, data: 'AA==', x: 1 }],
        /chunk: unknown field "x"/,
      ],
      [
        'uploadChunk',
        'unknown upload',
        () => [{ uploadId: '0x1', name: 'a.onnx', offset: 0, data: 'AA==' }],
        /chunk\.uploadId: no upload "0x1"/,
      ],
      [
        'uploadChunk',
        'bad name',
        () => [{ uploadId: uploadId(), name: 'a/b.onnx', offset: 0, data: 'AA==' }],
        /chunk\.name: "a\/b\.onnx" is not a file of this upload/,
      ],
      [
        'uploadChunk',
        'wrong offset',
        () => [{ uploadId: uploadId(), name: 'a.onnx', offset: 5, data: 'AA==' }],
        /chunk\.offset: a\.onnx has 0 bytes so far; send the chunk at offset 0/,
      ],
      [
        'uploadChunk',
        'bad data',
        () => [{ uploadId: uploadId(), name: 'a.onnx', offset: 0, data: 'not base64!' }],
        /chunk\.data: expected the file's bytes as a base64/,
      ],
      // lattice_listModels
      ['listModels', 'filter not an object', () => ['x'], /filter: expected an object/],
      ['listModels', 'unknown filter field', () => [{ colour: 'red' }], /filter: unknown field "colour"/],
      ['listModels', 'bad owner', () => [{ owner: '0x12' }], /filter\.owner/],
      ['listModels', 'bad name', () => [{ name: 5 }], /filter\.name/],
      ['listModels', 'bad status', () => [{ status: 'gone' }], /filter\.status: expected "active" or "deprecated"/],
      ['listModels', 'bad policy', () => [{ policy: 'open' }], /filter\.policy/],
      ['listModels', 'bad offset', () => [{ offset: -1 }], /filter\.offset: expected an integer/],
      ['listModels', 'limit too large', () => [{ limit: 5000 }], /filter\.limit: expected an integer from 0 to 1000/],
      ['listModels', 'too many params', () => [{}, {}], /too many arguments/],
      // lattice_getModel
      ['getModel', 'no id', () => [], /missing value for required argument 0/],
      ['getModel', 'bad id', () => ['0x1234'], /modelId: expected a 32-byte hex model id/],
      // lattice_infer
      ['infer', 'no request', () => [], /missing value for required argument 0/],
      ['infer', 'request not an object', () => [id()], /request: expected an object/],
      ['infer', 'unknown field', () => [{ modelId: id(), inputs: FLOWER, device: 'gpu' }], /unknown field "device"/],
      ['infer', 'bad modelId', () => [{ modelId: 'iris', inputs: FLOWER }], /request\.modelId: expected a 32-byte hex/],
      [
        'infer',
        'unknown model',
        () => [{ modelId: `0x${'12'.repeat(32)}`, inputs: FLOWER }],
        /request\.modelId: no model 0x1212/,
      ],
      [
        'infer',
        'inputs not an object',
        () => [{ modelId: id(), inputs: [1, 2] }],
        /request\.inputs: expected an object/,
      ],
      ['infer', 'unknown input', () => [{ modelId: id(), inputs: { y: [[1, 2, 3, 4]] } }], /request\.inputs: .*y/],
      ['infer', 'wrong shape', () => [{ modelId: id(), inputs: { x: [[1, 2, 3]] } }], /request\.inputs: .*x/],
      [
        'infer',
        'bad outputDecimals',
        () => [{ modelId: id(), inputs: FLOWER, outputDecimals: 100 }],
        /request\.outputDecimals: expected an integer from 0 to 77/,
      ],
      ['infer', 'bad fast', () => [{ modelId: id(), inputs: FLOWER, fast: 1 }], /request\.fast: expected a boolean/],
      // lattice_estimateInference
      ['estimateInference', 'no request', () => [], /missing value for required argument 0/],
      ['estimateInference', 'request not an object', () => [5], /request: expected an object/],
      ['estimateInference', 'unknown field', () => [{ modelId: id(), inputs: FLOWER, gas: 1 }], /unknown field "gas"/],
      [
        'estimateInference',
        'bad modelId',
        () => [{ modelId: 5, inputs: FLOWER }],
        /request\.modelId: expected a 32-byte hex/,
      ],
      [
        'estimateInference',
        'unknown model',
        () => [{ modelId: `0x${'34'.repeat(32)}`, inputs: FLOWER }],
        /request\.modelId: no model/,
      ],
      ['estimateInference', 'bad from', () => [{ modelId: id(), inputs: FLOWER, from: 'me' }], /request\.from/],
      ['estimateInference', 'inputs missing', () => [{ modelId: id() }], /request\.inputs: expected an object/],
      [
        'estimateInference',
        'wrong input',
        () => [{ modelId: id(), inputs: { x: { dtype: 'float32', shape: [1, 4], data: [1] } } }],
        /request\.inputs: .*x/,
      ],
      // no-parameter methods
      ['pinningSummary', 'a parameter', () => [1], /too many arguments, want at most 0/],
      ['nodeInfo', 'a parameter', () => [{}], /too many arguments, want at most 0/],
      ['nodeInfo', 'params not an array', () => ({ verbose: true }), /expects positional parameters/],
    ]
    for (const [method, what, params, message] of cases) {
      it(`lattice_${method}: ${what}`, async () => {
        const r = await call(`lattice_${method}`, params())
        expect(r.result).toBeUndefined()
        expect(r.error.code).toBe(-32602)
        expect(r.error.message).toMatch(message)
      })
    }

    it('nothing was registered by the refused deploys', async () => {
      expect((await rpc(devnet.url, 'lattice_listModels', [])).result.total).toBe(2)
    })
  })
})
