import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { encryptKeystoreJson, Wallet } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { initDatadir } from '../../src/chain/datadir.ts'
import { DEVNET_GENESIS_PATH } from '../../src/chain/genesis.ts'
import { modelAllowCommand } from '../../src/cli/commands/model-allow.ts'
import { modelDeployCommand } from '../../src/cli/commands/model-deploy.ts'
import { modelInferenceCommand } from '../../src/cli/commands/model-inference.ts'
import { modelInfoCommand } from '../../src/cli/commands/model-info.ts'
import { modelListCommand } from '../../src/cli/commands/model-list.ts'
import { modelSetPolicyCommand } from '../../src/cli/commands/model-set-policy.ts'
import { modelUpdateCommand } from '../../src/cli/commands/model-update.ts'
import { startNode } from '../../src/cli/node.ts'
import { buildModel } from '../../src/inference/builder.ts'
import { runCommand } from '../helpers/cli.ts'
import type { TestDevnet } from '../helpers/devnet.ts'
import { ADDR1, KEY0, KEY1, rpc, startTestDevnet } from '../helpers/devnet.ts'
import { exampleModel } from '../helpers/models.ts'

const run = runCommand

describe('lattice model commands', () => {
  let devnet: TestDevnet
  let dir: string
  let modelPath: string
  const conn = () => ({ rpcUrl: devnet.url, json: true })

  beforeAll(async () => {
    devnet = await startTestDevnet()
    dir = mkdtempSync(join(tmpdir(), 'lattice-cli-'))
    modelPath = join(dir, 'iris.onnx')
    writeFileSync(modelPath, exampleModel('iris').bytes)
    writeFileSync(join(dir, 'tokenizer.json'), '{}')
    writeFileSync(join(dir, 'notes.json'), '{}')
    writeFileSync(join(dir, 'input.json'), JSON.stringify({ inputs: { x: [[5.1, 3.5, 1.4, 0.2]] } }))
  })
  afterAll(async () => {
    await devnet?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('deploys from an encrypted keystore (password from LATTICE_KEYSTORE_PASSWORD), packing companions only', async () => {
    const w = new Wallet(KEY1)
    const json = await encryptKeystoreJson({ address: w.address, privateKey: w.privateKey }, 'pw', {
      scrypt: { N: 1024 },
    })
    writeFileSync(join(dir, 'key.json'), json)
    process.env.LATTICE_KEYSTORE_PASSWORD = 'pw'
    try {
      const { stdout } = await run(modelDeployCommand, {
        ...conn(),
        model: modelPath,
        name: 'iris-ks',
        version: '1',
        accessPolicy: 'allowlist',
        allow: ADDR1,
        description: 'Iris classifier',
        keystore: join(dir, 'key.json'),
      })
      const r = JSON.parse(stdout)
      expect(r.owner).toBe(w.address)
      expect(r.allowTxs).toHaveLength(1)
      const m = (await rpc(devnet.url, 'lattice_getModel', [r.modelId])).result
      expect(m).toMatchObject({ owner: w.address.toLowerCase(), policy: 'allowlist', allowlist: [ADDR1.toLowerCase()] })
      // the package: the model, the tokenizer beside it and the description; not unrelated JSON files
      const cached = await devnet.modelCache.getPackage(r.cid, r.digest)
      expect(cached.manifest.files.map((f) => f.name).sort()).toEqual([
        'description.txt',
        'iris.onnx',
        'tokenizer.json',
      ])
      process.env.LATTICE_KEYSTORE_PASSWORD = 'wrong'
      await expect(
        run(modelDeployCommand, { ...conn(), model: modelPath, name: 'x', keystore: join(dir, 'key.json') }),
      ).rejects.toThrow(/Cannot decrypt .*key\.json.*LATTICE_KEYSTORE_PASSWORD/)
    } finally {
      delete process.env.LATTICE_KEYSTORE_PASSWORD
    }
  })

  it('list filters by owner; info; update registers a new version and deprecates the old', async () => {
    const d = JSON.parse(
      (await run(modelDeployCommand, { ...conn(), model: modelPath, name: 'iris', version: '1', privateKey: KEY0 }))
        .stdout,
    )
    const mine = JSON.parse((await run(modelListCommand, { ...conn(), owner: new Wallet(KEY0).address })).stdout)
    expect(mine.models.map((m: { name: string }) => m.name)).toEqual(['iris'])
    const u = JSON.parse(
      (
        await run(modelUpdateCommand, {
          ...conn(),
          modelId: d.modelId,
          model: modelPath,
          version: '2',
          privateKey: KEY0,
        })
      ).stdout,
    )
    expect(u.previous).toBe(d.modelId)
    const old = JSON.parse((await run(modelInfoCommand, { ...conn(), modelId: d.modelId })).stdout)
    expect(old).toMatchObject({ status: 'deprecated', next: u.modelId })
    // inference on the deprecated version points at the new one
    await expect(
      run(modelInferenceCommand, { ...conn(), modelId: d.modelId, input: join(dir, 'input.json') }),
    ).rejects.toThrow(/is deprecated; run its newer version 0x/)
    await run(modelSetPolicyCommand, { ...conn(), modelId: u.modelId, accessPolicy: 'private', privateKey: KEY0 })
    expect((await rpc(devnet.url, 'lattice_getModel', [u.modelId])).result.policy).toBe('private')
    // only the owner may change it
    await expect(
      run(modelAllowCommand, { ...conn(), modelId: u.modelId, address: ADDR1, privateKey: KEY1 }),
    ).rejects.toThrow(/would revert: NotOwner/)
  })

  it('a package over 2 MiB is staged on the node in chunks', async () => {
    const big = buildModel({
      inputs: [{ name: 'x', elemType: 1, shape: [1, 1024] }],
      outputs: [{ name: 'y', elemType: 1, shape: [1, 640] }],
      initializers: [{ name: 'w', elemType: 1, dims: [1024, 640], data: new Float32Array(1024 * 640).fill(0.5) }],
      nodes: [{ op: 'MatMul', inputs: ['x', 'w'], outputs: ['y'] }],
    })
    expect(big.length).toBeGreaterThan(2.5 * 1024 * 1024)
    const path = join(dir, 'big.onnx')
    writeFileSync(path, big)
    const r = JSON.parse(
      (await run(modelDeployCommand, { ...conn(), model: path, name: 'big', privateKey: KEY0 })).stdout,
    )
    expect(r.size).toBe(big.length + 2) // and tokenizer.json beside it
    expect(r.flops).toBe(2 * 1024 * 640)
    expect(Buffer.from(await devnet.modelCache.getModelBytes(r.cid, r.digest)).equals(Buffer.from(big))).toBe(true)
  })

  it('errors say how to fix them', async () => {
    await expect(run(modelDeployCommand, { ...conn(), name: 'x' })).rejects.toThrow(/No model given\. Pass --model/)
    await expect(run(modelDeployCommand, { ...conn(), model: modelPath, name: 'x' })).rejects.toThrow(
      /sends a transaction\. Pass --private-key/,
    )
    await expect(
      run(modelDeployCommand, { ...conn(), model: modelPath, name: 'x', privateKey: '0x12' }),
    ).rejects.toThrow(/--private-key is not a private key/)
    await expect(
      run(modelDeployCommand, { ...conn(), model: modelPath, name: 'x', accessPolicy: 'open', privateKey: KEY0 }),
    ).rejects.toThrow(/--access-policy "open" is not a policy\. Pass public, private or allowlist/)
    await expect(run(modelListCommand, { rpcUrl: 'http://127.0.0.1:1', json: true })).rejects.toThrow(
      /Cannot reach a Lattice node at http:\/\/127\.0\.0\.1:1.*lattice devnet/,
    )
    await expect(run(modelInfoCommand, { ...conn(), modelId: 'iris' })).rejects.toThrow(
      /--model-id "iris" is not a model id/,
    )
    await expect(run(modelInfoCommand, { ...conn(), modelId: `0x${'ab'.repeat(32)}` })).rejects.toThrow(
      /No model 0xabab.* in the registry.*lattice model list/,
    )
    writeFileSync(join(dir, 'bad.onnx'), 'not a model')
    await expect(
      run(modelDeployCommand, { ...conn(), model: join(dir, 'bad.onnx'), name: 'bad', privateKey: KEY0 }),
    ).rejects.toThrow(/not an ONNX model/)
  })
})

describe('lattice model deploy against a validator node (no dev keys)', () => {
  it('uploads through lattice_deployModel, which returns the unsigned registration; the CLI signs it', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'lattice-node-models-'))
    await initDatadir({ datadir: tmp, genesisPath: fileURLToPath(DEVNET_GENESIS_PATH) })
    const node = await startNode({ datadir: tmp, port: 0 })
    try {
      writeFileSync(join(tmp, 'iris.onnx'), exampleModel('iris').bytes)
      const { stdout } = await run(modelDeployCommand, {
        rpcUrl: node.server.url,
        json: true,
        model: join(tmp, 'iris.onnx'),
        name: 'iris',
        version: '1',
        privateKey: KEY0,
      })
      const r = JSON.parse(stdout)
      expect(r.owner).toBe(new Wallet(KEY0).address)
      expect((await rpc(node.server.url, 'lattice_getModel', [r.modelId])).result).toMatchObject({ name: 'iris' })
      // the node stores bytes only with the sender's signature (issue 11, item 7) ...
      const bytes = exampleModel('iris').bytes
      const model = Buffer.from(bytes).toString('base64')
      const unsigned = await rpc(node.server.url, 'lattice_deployModel', [
        { model, name: 'iris', version: '2', from: ADDR1 },
      ])
      expect(unsigned.error.message).toMatch(/request\.auth/)
      const expires = Math.floor(Date.now() / 1000) + 600
      const files = [
        { name: 'model.onnx', size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') },
      ]
      const { uploadMessage } = await import('../../src/rpc/uploads.ts')
      const signature = await new Wallet(KEY1).signMessage(
        uploadMessage({
          chainId: BigInt((await rpc(node.server.url, 'eth_chainId', [])).result),
          sender: ADDR1,
          files,
          expires,
        }),
      )
      // ... and without a dev account it never sends for you
      const direct = await rpc(node.server.url, 'lattice_deployModel', [
        { model, name: 'iris', version: '2', from: ADDR1, auth: { expires, signature } },
      ])
      expect(direct.result.txHash).toBeUndefined()
      expect(direct.result.transaction.data).toMatch(/^0x/)
      expect((await rpc(node.server.url, 'lattice_nodeInfo', [])).result.devnet).toBe(false)
    } finally {
      await node.close()
      rmSync(tmp, { recursive: true, force: true })
    }
  })
})
