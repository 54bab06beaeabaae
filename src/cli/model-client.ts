// What every `lattice model ...` command shares: flags, connecting to a node, signing, sending, printing.
import { readdir, readFile, stat } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import type { InterfaceAbi, JsonRpcProvider, TransactionReceipt, TransactionRequest, Wallet } from 'ethers'
import { contractAbi } from '../chain/abi.ts'
import { errorMessage, LatticeError } from '../errors.ts'
import { type CliIO, type CliOption, printResult } from './command.ts'
import { CliFlagError, NodeRequestError, TransactionFailedError } from './errors.ts'

export const DEFAULT_RPC_URL = 'http://127.0.0.1:8545'
export const REGISTRY_ADDRESS = '0xA110000000000000000000000000000000000001'
export const INFERENCE_ADDRESS = '0x0000000000000000000000000000000000000A11'

/** Flags of every model command. */
export const CONNECTION_OPTIONS: CliOption[] = [
  { flags: '--rpc-url <url>', description: `node JSON-RPC URL (default $LATTICE_RPC_URL or ${DEFAULT_RPC_URL})` },
  { flags: '--json', description: 'print machine-readable JSON' },
]

/** Flags of commands that sign transactions. */
export const SIGNER_OPTIONS: CliOption[] = [
  { flags: '--private-key <hex>', description: 'sign with this private key (default $LATTICE_PRIVATE_KEY)' },
  {
    flags: '--keystore <file>',
    description: 'sign with an encrypted JSON keystore; password from LATTICE_KEYSTORE_PASSWORD or a prompt',
  },
]

/** ModelRegistry's ABI, from the solc build (functions and custom errors, for revert reasons). */
export const REGISTRY_ABI = contractAbi('ModelRegistry') as InterfaceAbi

/** The inference precompile's ABI (contracts/ILatticeInference.sol, from the solc build). */
export const INFERENCE_ABI = contractAbi('ILatticeInference') as InterfaceAbi

/** A connection to a node: raw JSON-RPC calls, an ethers provider, and a signer when a key was given. */
export interface NodeConnection {
  url: string
  chainId: bigint
  provider: JsonRpcProvider
  signer?: Wallet
  call<T = any>(method: string, params?: unknown[]): Promise<T>
  close(): void
}

/** POST one JSON-RPC call; errors say what to check. */
export async function rpcCall<T = any>(url: string, method: string, params: unknown[] = []): Promise<T> {
  let res: Response
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    })
  } catch (err) {
    throw new NodeRequestError(
      `Cannot reach a Lattice node at ${url} (${errorMessage((err as Error).cause ?? err)}). Start one with \`lattice devnet\` or pass --rpc-url.`,
    )
  }
  const text = await res.text()
  let body: { result?: T; error?: { code: number; message: string } }
  try {
    body = JSON.parse(text)
  } catch {
    throw new NodeRequestError(
      `${url} answered HTTP ${res.status} with something that is not JSON-RPC; check --rpc-url.`,
    )
  }
  if (body.error) {
    if (body.error.code === -32601)
      throw new NodeRequestError(
        `The node at ${url} does not serve ${method}; point --rpc-url at a Lattice devnet or node (lattice devnet).`,
      )
    throw new NodeRequestError(`${method}: ${body.error.message}`)
  }
  return body.result as T
}

/** `--rpc-url`, else $LATTICE_RPC_URL, else the local devnet. */
export function rpcUrlOf(opts: Record<string, any>): string {
  return (opts.rpcUrl as string | undefined) ?? process.env.LATTICE_RPC_URL ?? DEFAULT_RPC_URL
}

/** Connect to `--rpc-url`, and unlock `--private-key` / `--keystore` when given (required when `needSigner`). */
export async function connect(opts: Record<string, any>, io: CliIO, needSigner: boolean): Promise<NodeConnection> {
  const url = rpcUrlOf(opts)
  const { JsonRpcProvider, Network, Wallet } = await import('ethers')
  const chainId = BigInt(await rpcCall<string>(url, 'eth_chainId'))
  const network = Network.from(chainId)
  const provider = new JsonRpcProvider(url, network, { staticNetwork: network, batchMaxCount: 1, cacheTimeout: -1 })
  provider.pollingInterval = 100
  let signer: Wallet | undefined
  if (opts.privateKey !== undefined && opts.keystore !== undefined)
    throw new CliFlagError('Pass either --private-key or --keystore, not both.')
  const envKey = opts.keystore === undefined ? process.env.LATTICE_PRIVATE_KEY : undefined
  if (opts.privateKey !== undefined || envKey) {
    const key = String(opts.privateKey ?? envKey)
    if (!/^(0x)?[0-9a-fA-F]{64}$/.test(key))
      throw new CliFlagError('--private-key is not a private key. Pass 0x followed by 64 hex digits.')
    signer = new Wallet(key.startsWith('0x') ? key : `0x${key}`, provider)
  } else if (opts.keystore !== undefined) {
    signer = (await unlockKeystore(String(opts.keystore), io)).connect(provider) as Wallet
  } else if (needSigner) {
    throw new CliFlagError(
      'This command sends a transaction. Pass --private-key <hex> or --keystore <file>, or set LATTICE_PRIVATE_KEY (devnet keys: `lattice devnet` prints them).',
    )
  }
  return {
    url,
    chainId,
    provider,
    signer,
    call: (method, params) => rpcCall(url, method, params),
    close: () => provider.destroy(),
  }
}

async function unlockKeystore(path: string, io: CliIO): Promise<Wallet> {
  let json: string
  try {
    json = await readFile(path, 'utf8')
  } catch {
    throw new CliFlagError(`No keystore at ${path}. Pass --keystore with the path of an encrypted JSON keystore.`)
  }
  let password = process.env.LATTICE_KEYSTORE_PASSWORD
  if (password === undefined) {
    if (!process.stdin.isTTY)
      throw new CliFlagError(`The keystore needs a password. Set LATTICE_KEYSTORE_PASSWORD or run in a terminal.`)
    password = await promptHidden(`Password for ${path}: `, io)
  }
  const { Wallet } = await import('ethers')
  try {
    return (await Wallet.fromEncryptedJson(json, password)) as Wallet
  } catch (err) {
    throw new CliFlagError(
      `Cannot decrypt ${path} (${errorMessage(err)}). Check the password (LATTICE_KEYSTORE_PASSWORD) and the file.`,
    )
  }
}

function promptHidden(question: string, io: CliIO): Promise<string> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: io.stderr, terminal: true })
    const out = rl as unknown as { _writeToOutput: (s: string) => void }
    io.stderr.write(question)
    out._writeToOutput = () => {}
    rl.question('', (answer) => {
      rl.close()
      io.stderr.write('\n')
      resolve(answer)
    })
  })
}

/** Send a transaction from the signer and wait for its receipt; a revert becomes TransactionFailedError naming the reason. */
export async function sendAndWait(
  conn: NodeConnection,
  tx: TransactionRequest,
  what: string,
): Promise<TransactionReceipt> {
  if (!conn.signer) throw new CliFlagError(`${what} needs a signer. Pass --private-key or --keystore.`)
  let sent: Awaited<ReturnType<Wallet['sendTransaction']>>
  try {
    sent = await conn.signer.sendTransaction(tx)
  } catch (err) {
    throw new TransactionFailedError(`${what} failed: ${await revertReason(err)}`, { cause: err })
  }
  const receipt = await sent.wait(1, 120_000).catch(async (err) => {
    throw new TransactionFailedError(`${what} (tx ${sent.hash}) failed: ${await revertReason(err)}`, { cause: err })
  })
  if (receipt?.status !== 1)
    throw new TransactionFailedError(`${what} reverted (tx ${sent.hash}). Run it with eth_call to see the reason.`)
  return receipt
}

/** A readable reason from an ethers error: registry custom errors decoded, precompile Error(string) as is. */
export async function revertReason(err: unknown): Promise<string> {
  const { Interface } = await import('ethers')
  const e = err as { data?: string; info?: { error?: { message?: string; data?: string } }; shortMessage?: string }
  const data = e.data ?? e.info?.error?.data
  if (typeof data === 'string' && data.length >= 10) {
    try {
      const parsed = new Interface(REGISTRY_ABI).parseError(data)
      if (parsed) return `${parsed.name}(${parsed.args.map((a) => String(a)).join(', ')})`
    } catch {}
    try {
      const { AbiCoder } = await import('ethers')
      if (data.startsWith('0x08c379a0')) return AbiCoder.defaultAbiCoder().decode(['string'], `0x${data.slice(10)}`)[0]
    } catch {}
  }
  return e.info?.error?.message ?? e.shortMessage ?? errorMessage(err)
}

/** Print `json` with --json, else the human text. */
export function output(io: CliIO, opts: Record<string, any>, json: unknown, human: string): void {
  printResult(opts.json ? { ...io, json: true } : io, json, human)
}

/** A --model-id value: 0x + 64 hex digits. */
export function modelIdFlag(v: unknown, flag = '--model-id'): string {
  if (typeof v !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(v))
    throw new CliFlagError(
      `${flag} ${v === undefined ? 'is missing' : `"${String(v)}" is not a model id`}. Pass the 0x-prefixed 32-byte id that \`lattice model list\` shows.`,
    )
  return v.toLowerCase()
}

/** An --access-policy value as the registry's code. */
export function policyFlag(v: unknown): number {
  const codes: Record<string, number> = { public: 0, private: 1, allowlist: 2 }
  if (v === undefined) return 0
  if (typeof v !== 'string' || !(v in codes))
    throw new CliFlagError(`--access-policy "${String(v)}" is not a policy. Pass public, private or allowlist.`)
  return codes[v]
}

/** A --price value in wei (decimal or 0x). */
export function weiFlag(v: unknown, flag = '--price'): bigint {
  if (v === undefined) return 0n
  if (typeof v === 'string' && /^(0x[0-9a-fA-F]{1,64}|[0-9]{1,78})$/.test(v)) return BigInt(v)
  throw new CliFlagError(
    `${flag} "${String(v)}" is not an amount of wei. Pass an integer, e.g. ${flag} 1000000000000000.`,
  )
}

/** An address flag (one, or a comma-separated list). */
export async function addressesFlag(v: unknown, flag: string): Promise<string[]> {
  if (v === undefined) return []
  const { getAddress } = await import('ethers')
  return String(v)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((a) => {
      try {
        return getAddress(a.toLowerCase())
      } catch {
        throw new CliFlagError(`${flag} "${a}" is not an address. Pass 0x followed by 40 hex digits.`)
      }
    })
}

/** Files that travel with a model file: external data it names, and tokenizer/config files beside it. */
const COMPANION = [
  /^tokenizer(_config)?\.json$/,
  /^special_tokens_map\.json$/,
  /^vocab\.(json|txt)$/,
  /^merges\.txt$/,
  /^(spiece|sentencepiece)\.model$/,
  /^(generation_|preprocessor_)?config\.json$/,
  /^added_tokens\.json$/,
]

/** The package files for `--model`: a directory's files, or a model file plus its external data and companions. */
export async function modelPackageFiles(modelPath: string): Promise<{ name: string; path: string }[]> {
  let s: Awaited<ReturnType<typeof stat>>
  try {
    s = await stat(modelPath)
  } catch {
    throw new CliFlagError(
      `No model at ${modelPath}. Pass --model with a path to an .onnx file or a package directory.`,
    )
  }
  if (s.isDirectory()) {
    const names = (await readdir(modelPath, { withFileTypes: true }))
      .filter((e) => e.isFile() && !e.name.startsWith('.'))
      .map((e) => e.name)
    const onnx = names.filter((n) => n.endsWith('.onnx'))
    if (onnx.length !== 1)
      throw new CliFlagError(
        `${modelPath} holds ${onnx.length} .onnx files (${onnx.join(', ') || 'none'}); a package directory needs exactly one. Pass --model with the .onnx file instead.`,
      )
    return names.sort().map((name) => ({ name, path: join(modelPath, name) }))
  }
  if (!modelPath.endsWith('.onnx'))
    throw new CliFlagError(
      `${modelPath} is not an .onnx file. Pass --model with an ONNX model (export one with torch.onnx.export or optimum-cli export onnx).`,
    )
  const dir = dirname(modelPath)
  const files = [{ name: basename(modelPath), path: modelPath }]
  const siblings = await readdir(dir)
  const external = await externalDataFiles(modelPath)
  for (const n of siblings.sort()) {
    if (n === basename(modelPath)) continue
    if (external.has(n) || COMPANION.some((re) => re.test(n))) files.push({ name: n, path: join(dir, n) })
  }
  for (const e of external) {
    if (!siblings.includes(e))
      throw new CliFlagError(`${modelPath} keeps weights in "${e}", which is not next to it. Put ${e} in ${dir}.`)
  }
  return files
}

/** External-data file names a model's initializers point at. */
async function externalDataFiles(modelPath: string): Promise<Set<string>> {
  const { decodeModel } = await import('../inference/proto.ts')
  const out = new Set<string>()
  try {
    const m = decodeModel(await readFile(modelPath))
    for (const t of m.graph?.initializer ?? []) {
      for (const kv of t.externalData ?? []) if (kv.key === 'location' && kv.value) out.add(kv.value)
    }
  } catch {
    // not decodable: the model check reports it
  }
  return out
}

/** Parse `--input-shape name=1x3x224x224` flags. */
export async function shapeFlags(v: unknown): Promise<Record<string, number[]>> {
  const { parseShapeArg } = await import('../inference/flops.ts')
  const out: Record<string, number[]> = {}
  for (const a of (v as string[] | undefined) ?? []) {
    const [name, shape] = parseShapeArg(a)
    out[name] = shape
  }
  return out
}

/** Human size: 1.2 MiB. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`
  return `${(n / 1024 ** 3).toFixed(2)} GiB`
}

/** Keep LatticeError messages; wrap anything else so the CLI prints one line. */
export function asLatticeError(err: unknown, what: string): LatticeError {
  if (err instanceof LatticeError) return err
  return new NodeRequestError(`${what}: ${errorMessage(err)}`, { cause: err })
}

/** Send one ModelRegistry call from the signer and print its receipt (the registry operation commands). */
export async function registryTransaction(
  opts: Record<string, any>,
  io: CliIO,
  fn: string,
  args: unknown[],
  what: string,
): Promise<number> {
  const conn = await connect(opts, io, true)
  try {
    const { Interface } = await import('ethers')
    const data = new Interface(REGISTRY_ABI).encodeFunctionData(fn, args)
    // eth_call first: a revert reason (NotOwner, UnknownModel, ...) is clearer than a failed receipt
    await conn.provider
      .call({ from: await conn.signer!.getAddress(), to: REGISTRY_ADDRESS, data })
      .catch(async (err) => {
        throw new TransactionFailedError(`${what} would revert: ${await revertReason(err)}`)
      })
    const r = await sendAndWait(conn, { to: REGISTRY_ADDRESS, data }, what)
    output(
      io,
      opts,
      { txHash: r.hash, blockNumber: r.blockNumber, gasUsed: r.gasUsed.toString(), status: r.status },
      `${what}: done\nTx:        ${r.hash}\nBlock:     ${r.blockNumber}\nGas used:  ${r.gasUsed}`,
    )
    return 0
  } finally {
    conn.close()
  }
}
