// Every registered command accepts --json and then prints exactly one JSON document on stdout: its result, or
// {"error":{"code","message"}} with a non-zero exit code. Commands that need a node run against a real
// `lattice devnet` child process; the long-running ones (devnet, node, mcp) print their startup as the document.
import type { ChildProcess } from 'node:child_process'
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadCommands } from '../../src/cli/commands.ts'
import { formatTensorJson } from '../../src/inference/json.ts'
import { runCli } from '../helpers/cli.ts'
import { ADDR1, KEY0 } from '../helpers/devnet.ts'
import { freePort, stopProcess } from '../helpers/devnet-process.ts'
import { exampleModel } from '../helpers/models.ts'

const BIN = new URL('../../bin/lattice.js', import.meta.url).pathname
const REPO = new URL('../..', import.meta.url).pathname
// a devnet with its examples on a loaded 2-core machine: measured 40-70 s to its first line; room for more
const START_MS = 180_000

/** SIGTERM and the exit code; a process that has not exited within 60 s fails the test with its stderr. */
async function stop(s: Started): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no exit 60 s after SIGTERM:\n${s.stderr()}`)), 60_000)
  })
  try {
    return await Promise.race([stopProcess(s.child), late])
  } finally {
    clearTimeout(timer)
  }
}

interface Started {
  child: ChildProcess
  doc: Record<string, any>
  stderr(): string
}

/** Start `lattice ARGS --json` and resolve with its startup document once stdout holds one whole JSON value. */
function startJson(args: string[], children: ChildProcess[]): Promise<Started> {
  const child = spawn(process.execPath, [BIN, ...args, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  let out = ''
  let err = ''
  child.stderr?.on('data', (d) => {
    err += d
  })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`lattice ${args[0]} printed no JSON in time:\n${out}\n${err}`)),
      START_MS,
    )
    child.stdout?.on('data', (d) => {
      out += d
      try {
        const doc = JSON.parse(out)
        clearTimeout(timer)
        resolve({ child, doc, stderr: () => err })
      } catch {
        // not all of it yet
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`lattice ${args[0]} exited (${code}) before printing JSON:\n${out}\n${err}`))
    })
  })
}

describe('--json on every command', () => {
  const children: ChildProcess[] = []
  const covered = new Set<string>()
  let names: string[]
  let work: string
  let devnet: Started
  let url: string
  let iris: string
  let input: string
  let modelId: string
  let inferenceTx: { txHash: string; blockNumber: number }

  /** Run `lattice ARGV --json` in-process; stdout must be one JSON document (JSON.parse refuses anything more). */
  async function json(argv: string[], code = 0): Promise<any> {
    const name = names.find((n) =>
      argv
        .filter((a) => !a.startsWith('-'))
        .join(' ')
        .startsWith(n),
    )
    if (name) covered.add(name)
    const r = await runCli([...argv, '--json'])
    let doc: unknown
    try {
      doc = JSON.parse(r.out)
    } catch {
      throw new Error(`lattice ${argv.join(' ')} --json printed no single JSON document:\n${r.out}\n${r.err}`)
    }
    expect(r.code, JSON.stringify(doc)).toBe(code)
    return doc
  }

  beforeAll(async () => {
    // longest names first, so "ipfs pin add" is not counted as "ipfs add"
    names = (await loadCommands()).map((c) => c.name).sort((a, b) => b.length - a.length)
    work = mkdtempSync(join(tmpdir(), 'lattice-json-'))
    iris = join(work, 'iris.onnx')
    writeFileSync(iris, exampleModel('iris').bytes)
    input = join(work, 'input.json')
    writeFileSync(input, formatTensorJson(exampleModel('iris').sampleInput, 'inputs'))
    devnet = await startJson(
      ['devnet', '--port', String(await freePort()), '--datadir', join(work, 'devnet')],
      children,
    )
    covered.add('devnet')
    url = devnet.doc.rpcUrl
  }, START_MS + 10_000)

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) await stopProcess(c, 'SIGKILL')
    rmSync(work, { recursive: true, force: true })
  })

  it('lattice devnet --json prints its startup (accounts, chain, examples) as one document', () => {
    const d = devnet.doc
    expect(d.chainId).toBe('41232')
    expect(d.rpcUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(d.accounts).toHaveLength(10)
    expect(d.accounts[0].privateKey).toBe(KEY0)
    expect(d.examples.models.map((m: { name: string }) => m.name)).toContain('iris')
    expect(d.mining).toEqual({ kind: 'auto' })
  })

  it('a missing required flag, a missing argument, an unknown option and an unknown command are JSON errors', async () => {
    const missingFlag = await json(['model', 'info', '--rpc-url', url], 1)
    expect(missingFlag.error.code).toBe('BAD_FLAG')
    expect(missingFlag.error.message).toMatch(/--model-id is missing/)
    const missingArg = await json(['export'], 1)
    expect(missingArg).toEqual({ error: { code: 'BAD_FLAG', message: "missing required argument 'file'" } })
    const unknown = await json(['model', 'list', '--bogus'], 1)
    expect(unknown).toEqual({ error: { code: 'BAD_FLAG', message: "unknown option '--bogus'" } })
    expect((await json(['nosuch'], 1)).error.code).toBe('UNKNOWN_COMMAND')
    // --json before the command works too
    const r = await runCli(['--json', 'init'])
    expect(r.code).toBe(1)
    expect(JSON.parse(r.out).error).toEqual({
      code: 'BAD_FLAG',
      message: 'Pass --genesis with the path of a geth-format genesis.json.',
    })
    // without --json the same error is text on stderr
    const text = await runCli(['init'])
    expect(text.out).toBe('')
    expect(text.err).toBe('error: Pass --genesis with the path of a geth-format genesis.json.\n')
  }, 60_000)

  it('local commands: flops, infer, devices, contracts build', async () => {
    const flops = await json(['flops', '--model', iris, '--input', 'x=1x4'])
    expect(flops.flops).toBeGreaterThan(0)
    expect(Object.keys(flops.byOp).length).toBeGreaterThan(0)
    const infer = await json(['infer', '--model', iris, '--input', input])
    expect(Object.keys(infer.outputs).length).toBeGreaterThan(0)
    const written = await json(['infer', '--model', iris, '--input', input, '--output', join(work, 'out.json')])
    expect(written).toEqual({ output: join(work, 'out.json'), profile: 'consensus-v2' })
    expect(JSON.parse(readFileSync(join(work, 'out.json'), 'utf8')).outputs).toEqual(infer.outputs)
    // precompile-output (the Foundry helper's CLI; test/e2e/foundry-iris.slow.test.ts runs it for real): an error is JSON too
    expect((await json(['precompile-output', '--calldata', '0x00'], 1)).error.code).toBe('BAD_FLAG')
    const devices = await json(['devices'])
    expect(devices.providers.map((p: { provider: string }) => p.provider)).toContain('cpu')
    // the checked-in genesis and ABIs match a fresh compile; either way the answer is one JSON document
    const check = await runCli(['contracts', 'build', '--check', '--json'])
    covered.add('contracts build')
    const doc = JSON.parse(check.out)
    if (check.code === 0) expect(doc).toMatchObject({ upToDate: true, solc: expect.stringMatching(/^0\.8\./) })
    else expect(doc.error.code).toBe('CHECK_FAILED')
  }, 180_000)

  it('ipfs add, stat, get, pack, pin add, pin ls, pin rm', async () => {
    const store = ['--datadir', join(work, 'ipfs')]
    const added = await json(['ipfs', 'add', iris, ...store])
    expect(added.cid).toMatch(/^baf/)
    const stat = await json(['ipfs', 'stat', added.cid, ...store])
    expect(stat).toMatchObject({ cid: added.cid, type: 'file', size: exampleModel('iris').bytes.length })
    const got = await json(['ipfs', 'get', added.cid, '-o', join(work, 'got.onnx'), ...store])
    expect(got.path).toBe(join(work, 'got.onnx'))
    expect(readFileSync(join(work, 'got.onnx')).equals(Buffer.from(exampleModel('iris').bytes))).toBe(true)
    const dir = join(work, 'pkg')
    mkdirSync(dir)
    writeFileSync(join(dir, 'model.onnx'), exampleModel('iris').bytes)
    const pack = await json(['ipfs', 'pack', dir, ...store])
    expect(pack.digest).toMatch(/^0x[0-9a-f]{64}$/)
    const pinned = await json(['ipfs', 'pin', 'add', pack.manifestCid, ...store])
    expect(pinned.cid).toBe(pack.manifestCid)
    const ls = await json(['ipfs', 'pin', 'ls', ...store])
    expect(ls.pins.map((p: { cid: string }) => p.cid)).toContain(pack.manifestCid)
    expect(await json(['ipfs', 'pin', 'rm', pack.manifestCid, ...store])).toEqual({ unpinned: pack.manifestCid })
  }, 180_000)

  it('model deploy, list, info, inference (call and --tx), update and the registry operations', async () => {
    const conn = ['--rpc-url', url]
    const signer = [...conn, '--private-key', KEY0]
    const deployed = await json(['model', 'deploy', '--model', iris, '--name', 'json-iris', ...signer])
    modelId = deployed.modelId
    expect(modelId).toMatch(/^0x[0-9a-f]{64}$/)
    const list = await json(['model', 'list', '--name', 'json-iris', ...conn])
    expect(list.models.map((m: { modelId: string }) => m.modelId)).toEqual([modelId])
    expect((await json(['model', 'info', '--model-id', modelId, ...conn])).name).toBe('json-iris')
    const call = await json(['model', 'inference', '--model-id', modelId, '--input', input, ...conn])
    expect(Object.keys(call.outputs).length).toBeGreaterThan(0)
    const tx = await json(['model', 'inference', '--tx', '--model-id', modelId, '--input', input, ...signer])
    expect(tx).toMatchObject({ status: 1, outputs: call.outputs })
    inferenceTx = tx
    for (const argv of [
      ['model', 'set-price', '--model-id', modelId, '--price', '0'],
      ['model', 'set-policy', '--model-id', modelId, '--access-policy', 'allowlist'],
      ['model', 'allow', '--model-id', modelId, '--address', ADDR1],
      ['model', 'disallow', '--model-id', modelId, '--address', ADDR1],
      ['model', 'withdraw'],
    ]) {
      expect(await json([...argv, ...signer])).toMatchObject({ status: 1, txHash: expect.stringMatching(/^0x/) })
    }
    const updated = await json(['model', 'update', '--model-id', modelId, '--model', iris, '--version', '2', ...signer])
    expect(updated.previous).toBe(modelId)
    const dep = await json(['model', 'deprecate', '--model-id', updated.modelId, ...signer])
    expect(dep.status).toBe(1)
    // from a local HuggingFace snapshot directory (no network)
    const snap = join(work, 'snapshot')
    mkdirSync(join(snap, 'onnx'), { recursive: true })
    writeFileSync(join(snap, 'onnx', 'model.onnx'), exampleModel('iris').bytes)
    const hf = await json(['model', 'import-hf', snap, '--name', 'json-hf', '--version', '1', ...signer])
    expect(hf.source).toMatchObject({ origin: 'snapshot', file: 'onnx/model.onnx' })
  }, 300_000)

  it('proof get, proof verify, proof deploy-verifier, pinning summary', async () => {
    const proof = await json(['proof', 'get', '--tx', inferenceTx.txHash, '--rpc-url', url])
    expect(proof.record.txHash).toBe(inferenceTx.txHash)
    const file = join(work, 'proof.json')
    writeFileSync(file, JSON.stringify(proof))
    const verified = await json(['proof', 'verify', '--proof', file, '--rpc-url', url])
    expect(verified).toMatchObject({
      valid: true,
      txHash: inferenceTx.txHash,
      blockNumber: String(inferenceTx.blockNumber),
    })
    const light = await json([
      'proof',
      'deploy-verifier',
      '--rpc-url',
      url,
      '--private-key',
      KEY0,
      '--lattice-url',
      url,
    ])
    expect(light.address).toMatch(/^0x[0-9a-fA-F]{40}$/)
    expect(light.latticeChainId).toBe('41232')
    const summary = await json(['pinning', 'summary', '--rpc-url', url])
    expect(summary.storage.pinnedModels).toBeGreaterThan(0)
  }, 180_000)

  it('the InferenceMarket commands print one JSON document or one JSON error (issue 20)', async () => {
    // the long-running executor and challenger are driven end to end in test/e2e/accelerated.slow.test.ts
    const status = await json(['executor', 'status', ADDR1, '--rpc-url', url])
    expect(status).toMatchObject({ executor: ADDR1, active: false, stake: '0', claims: 0, credit: '0' })
    const cuda = await json(['executor', '--provider', 'cuda', '--key', KEY0, '--rpc-url', url], 1)
    expect(cuda.error.message).toMatch(/--provider cuda is not available on this machine/)
    expect((await json(['challenger', '--poll-ms', '1', '--key', KEY0, '--rpc-url', url], 1)).error.code).toBe(
      'BAD_FLAG',
    )
    const claim = await json(['claim', 'challenge', '99', '--key', KEY0, '--rpc-url', url], 1)
    expect(claim.error).toMatchObject({ code: 'MARKET_STATE', message: expect.stringMatching(/Request 99 is unknown/) })
    const none = `0x${'00'.repeat(32)}`
    const tol = await json(['model', 'set-tolerance', none, '--max-ulp', '2', '--key', KEY0, '--rpc-url', url], 1)
    expect(tol.error.message).toMatch(/No model/)
  })

  it(
    'lattice mcp --transport http --json prints its startup as one document',
    async () => {
      const mcp = await startJson(
        ['mcp', '--transport', 'http', '--port', '0', '--rpc-url', url, '--read-only'],
        children,
      )
      covered.add('mcp')
      expect(mcp.doc).toMatchObject({ transport: 'http', rpcUrl: url, chainId: '41232', signer: null })
      expect(mcp.doc.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+/)
      expect(await stop(mcp)).toBe(0)
    },
    START_MS,
  )

  it(
    'init, export, import and node on data directories',
    async () => {
      expect(await stop(devnet)).toBe(0)
      const source = join(work, 'devnet')
      // the blocks before the inference transaction: importing them needs no model from IPFS
      const to = inferenceTx.blockNumber - 1
      const exported = await json(['export', join(work, 'blocks.rlp'), '--datadir', source, '--to', String(to)])
      expect(exported).toEqual({ exported: to, file: join(work, 'blocks.rlp') })
      const genesis = existsSync(join(source, 'genesis.json'))
        ? join(source, 'genesis.json')
        : join(REPO, 'genesis/devnet.json')
      const init = await json(['init', '--genesis', genesis, '--datadir', join(work, 'copy')])
      expect(init.chainId).toBe('41232')
      const imported = await json(['import', join(work, 'blocks.rlp'), '--datadir', join(work, 'copy')])
      expect(imported).toMatchObject({ imported: to, skipped: 0, head: { number: String(to) } })
      const node = await startJson(['node', '--datadir', join(work, 'copy'), '--port', '0'], children)
      covered.add('node')
      expect(node.doc).toMatchObject({ chainId: '41232', head: String(to), mining: 'auto' })
      expect(await stop(node)).toBe(0)
    },
    START_MS + 120_000,
  )

  it('network up, status and down answer with one JSON error document where there is no network', async () => {
    // a running network needs Lodestar and minutes; `npm run test:network` covers that (test/network)
    const dir = join(work, 'no-network')
    const up = await json(['network', 'up', '--dir', dir, '--lodestar', join(work, 'no-lodestar')], 1)
    expect(up.error.code).toBe('LODESTAR_MISSING')
    expect((await json(['network', 'status', '--dir', dir], 1)).error.code).toBe('NO_NETWORK')
    expect((await json(['network', 'down', '--dir', dir], 1)).error.code).toBe('NO_NETWORK')
  })

  it('covered every registered command', () => {
    expect([...covered].sort()).toEqual([...names].sort())
  })
})
