// `lattice network up`: one genesis, N validator keys and JWT secrets, N `lattice node` processes (Engine API,
// peering) and N `lodestar dev` processes (one interop validator each), all detached, on loopback.
import { randomBytes } from 'node:crypto'
import { chmodSync, cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { bytesToHex } from '@ethereumjs/util'
import { initDatadir } from '../../chain/datadir.ts'
import { loadOrCreateNodeKey, nodeKeyPath } from '../../p2p/nodekey.ts'
import { keyAddress } from '../../proofs/attestation.ts'
import { rpcCall } from '../model-client.ts'
import { NetworkError, NetworkExistsError } from './errors.ts'
import { networkGenesis } from './genesis.ts'
import type { ConsensusNode, ExecutionNode, NetworkState } from './layout.ts'
import { networkPaths, readNetworkState, writeNetworkState } from './layout.ts'
import { connectLodestarPeer, lodestarBinary, lodestarCommand, lodestarIdentity } from './lodestar.ts'
import { isOurs, startDetached, stopProcesses } from './processes.ts'
import { freePorts, portOpen, waitUntil } from './ready.ts'

/** The CLI entry the execution nodes run (bin/lattice.js: dist/ when built, else the sources through tsx). */
export const LATTICE_BIN = fileURLToPath(new URL('../../../bin/lattice.js', import.meta.url))

/** Options of {@link networkUp}. */
export interface NetworkUpOpts {
  dir: string
  /** Validators (one Lattice node + one Lodestar each). Default 4. */
  validators?: number
  /** Delete a stopped network in `dir` first. */
  reset?: boolean
  /** The lodestar binary (default: $LATTICE_LODESTAR or .cache/lodestar/lodestar). */
  lodestar?: string
  /** Consensus slot length in seconds. Default 2. */
  slotSeconds?: number
  /** Seconds from the consensus genesis time computation to genesis. Default 20 + 5 per validator. */
  genesisDelay?: number
  /** More `lattice node` flags per node index (0-based), e.g. a test switch. Default none. */
  extraNodeArgs?: Record<number, string[]>
  /** How long a process may take to answer (default 180 s: 2N processes start at once on 2 cores). */
  startTimeoutMs?: number
  onProgress?: (line: string) => void
  signal?: AbortSignal
}

/** Start a network; resolves with its network.json once every process answers and the Lodestars are peered. */
export async function networkUp(opts: NetworkUpOpts): Promise<NetworkState> {
  const n = opts.validators ?? 4
  if (!Number.isInteger(n) || n < 1 || n > 16) {
    throw new NetworkError('BAD_VALIDATORS', `--validators ${n} is not from 1 to 16. Pass e.g. --validators 4.`)
  }
  const p = networkPaths(opts.dir)
  const lodestar = lodestarBinary(opts.lodestar)
  prepareDir(p.root, Boolean(opts.reset))
  const log = opts.onProgress ?? (() => {})
  const slotSeconds = opts.slotSeconds ?? 2
  const timeoutMs = opts.startTimeoutMs ?? 180_000
  mkdirSync(p.logs, { recursive: true })

  // keys: a validator key (inference-root attestations) and a JWT secret per validator, readable by the owner only
  const keys = Array.from({ length: n }, () => bytesToHex(randomBytes(32)))
  const addresses = keys.map((k) => keyAddress(Buffer.from(k.slice(2), 'hex')))
  const genesis = networkGenesis({ validators: addresses, timestamp: Math.floor(Date.now() / 1000) })
  writeFileSync(p.genesis, `${JSON.stringify(genesis, null, 2)}\n`)
  log(`genesis at Shanghai for ${n} validators: ${p.genesis}`)
  // one datadir initialised, then copied: every node starts from the same bytes
  const { spec, genesis: block } = await initDatadir({ datadir: p.el(0), genesisPath: p.genesis })
  for (let i = 1; i < n; i++) cpSync(p.el(0), p.el(i), { recursive: true })
  const genesisHash = bytesToHex(block.hash())
  log(`execution genesis ${genesisHash}`)

  const ports = await freePorts(5 * n)
  const { peerIdFromPrivateKey } = await import('@libp2p/peer-id')
  const els: ExecutionNode[] = []
  for (let i = 0; i < n; i++) {
    const datadir = p.el(i)
    const jwtSecretFile = `${datadir}/jwt.hex`
    const validatorKeyFile = `${datadir}/validator.key`
    writeSecret(jwtSecretFile, bytesToHex(randomBytes(32)))
    writeSecret(validatorKeyFile, keys[i])
    const peerId = peerIdFromPrivateKey(await loadOrCreateNodeKey(nodeKeyPath(datadir))).toString()
    const [rpcPort, authPort, p2pPort] = ports.slice(5 * i, 5 * i + 3)
    els.push({
      command: [],
      cwd: datadir,
      log: p.elLog(i),
      pid: 0,
      datadir,
      rpcPort,
      authPort,
      p2pPort,
      enode: `/ip4/127.0.0.1/tcp/${p2pPort}/p2p/${peerId}`,
      jwtSecretFile,
      validator: addresses[i],
      validatorKeyFile,
    })
  }

  const started: { pid: number; label: string }[] = []
  try {
    for (const [i, el] of els.entries()) {
      el.command = [
        process.execPath,
        LATTICE_BIN,
        'node',
        '--datadir',
        el.datadir,
        '--port',
        String(el.rpcPort),
        '--authrpc.port',
        String(el.authPort),
        '--authrpc.jwtsecret',
        el.jwtSecretFile,
        '--p2p.port',
        String(el.p2pPort),
        '--bootnodes',
        els
          .filter((o) => o !== el)
          .map((o) => o.enode)
          .join(','),
        '--validator-key',
        keys[i],
        ...(opts.extraNodeArgs?.[i] ?? []),
      ]
      el.pid = startDetached(el)
      started.push({ pid: el.pid, label: `Lattice node ${i + 1}` })
      log(`Lattice node ${i + 1}: pid ${el.pid}, RPC http://127.0.0.1:${el.rpcPort}, log ${el.log}`)
    }
    for (const [i, el] of els.entries()) {
      await waitUntil(
        async () => Boolean(await rpcCall(`http://127.0.0.1:${el.rpcPort}`, 'eth_chainId')) && portOpen(el.authPort),
        { what: `Lattice node ${i + 1}`, pid: el.pid, marker: p.root, log: el.log, timeoutMs, signal: opts.signal },
      )
    }
    log('Lattice nodes answer')

    // the consensus genesis: far enough ahead that the Lodestars are up for its first slots
    const genesisTime = Math.floor(Date.now() / 1000) + (opts.genesisDelay ?? 20 + 5 * n)
    const cls: ConsensusNode[] = []
    for (const [i, el] of els.entries()) {
      const dataDir = p.cl(i)
      mkdirSync(dataDir, { recursive: true })
      const [restPort, p2pPort] = ports.slice(5 * i + 3, 5 * i + 5)
      const command = lodestarCommand(lodestar, {
        validators: n,
        validatorIndex: i,
        genesisTime,
        genesisHash,
        slotSeconds,
        authPort: el.authPort,
        jwtSecretFile: el.jwtSecretFile,
        restPort,
        p2pPort,
        dataDir,
        feeRecipient: el.validator,
      })
      // lodestar dev writes genesis.ssz into its working directory: one directory each
      const cl: ConsensusNode = {
        command,
        cwd: dataDir,
        log: p.clLog(i),
        pid: 0,
        dataDir,
        restPort,
        p2pPort,
        validatorIndex: i,
      }
      cl.pid = startDetached(cl)
      started.push({ pid: cl.pid, label: `Lodestar ${i + 1}` })
      cls.push(cl)
      log(`Lodestar ${i + 1}: pid ${cl.pid}, REST http://127.0.0.1:${restPort}, log ${cl.log}`)
    }
    const state: NetworkState = {
      version: 1,
      dir: p.root,
      chainId: spec.chainId.toString(),
      genesisHash,
      genesisTime,
      slotSeconds,
      validators: n,
      lodestar,
      startedAt: new Date().toISOString(),
      nodes: els.map((el, i) => ({ index: i, el, cl: cls[i] })),
      examples: [],
    }
    // written now: from here on `down` can stop everything even if the peering below fails
    writeNetworkState(state)
    for (const [i, cl] of cls.entries()) {
      await waitUntil(
        async () => {
          cl.peerId = (await lodestarIdentity(cl.restPort)).peerId
          return true
        },
        { what: `Lodestar ${i + 1}`, pid: cl.pid, marker: p.root, log: cl.log, timeoutMs, signal: opts.signal },
      )
    }
    for (const a of cls) {
      for (const b of cls) {
        if (a !== b && b.peerId) await connectLodestarPeer(a.restPort, b.peerId, `/ip4/127.0.0.1/tcp/${b.p2pPort}`)
      }
    }
    writeNetworkState(state)
    log(`Lodestars peered; consensus genesis at ${new Date(genesisTime * 1000).toISOString()}`)
    return state
  } catch (err) {
    // nothing of a failed start is left running
    await stopProcesses(started, p.root, { graceMs: 10_000 })
    throw err
  }
}

/** An empty directory for a new network; an existing network is deleted with `reset` only, and never while it runs. */
function prepareDir(root: string, reset: boolean): void {
  const p = networkPaths(root)
  if (!existsSync(p.state)) {
    if (existsSync(p.el(0)) && !reset) throw new NetworkExistsError(root)
  } else {
    const state = readNetworkState(root)
    const running = state.nodes.some((x) => isOurs(x.el.pid, state.dir) || isOurs(x.cl.pid, state.dir))
    if (running || !reset) throw new NetworkExistsError(root)
  }
  if (reset) {
    for (const f of ['network.json', 'genesis.json', 'logs']) rmSync(`${root}/${f}`, { recursive: true, force: true })
    for (let i = 0; i < 64; i++) {
      rmSync(p.el(i), { recursive: true, force: true })
      rmSync(p.cl(i), { recursive: true, force: true })
    }
  }
  mkdirSync(root, { recursive: true })
}

function writeSecret(path: string, hex: string): void {
  writeFileSync(path, `${hex.replace(/^0x/, '')}\n`, { mode: 0o600 })
  chmodSync(path, 0o600)
}
