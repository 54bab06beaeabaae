// Kubo backend: an external IPFS daemon through kubo-rpc-client. Reads go block by block (block/get) so
// every block is verified here, not trusted to the daemon; large adds use a streamed node:http multipart
// upload because the client's fetch-based add buffers the whole body on Node 20.
import { randomBytes } from 'node:crypto'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { create, type KuboRPCClient } from 'kubo-rpc-client'
import type { CID } from 'multiformats/cid'
import { metered, openSource, parseCid, readFile, statNode, verifyBlock } from './dag.ts'
import { BlockNotFoundError, InvalidStorageOptionError, KuboRequestError, KuboUnreachableError } from './errors.ts'
import { writeStreamToFile } from './files.ts'
import { CHUNK_SIZE } from './profile.ts'
import type {
  AddOptions,
  AddResult,
  AddSource,
  CidVersion,
  IoOptions,
  ModelStore,
  PinEntry,
  ReadOptions,
  StatResult,
} from './types.ts'

export interface KuboModelStoreOpts {
  /** Kubo RPC API base URL, e.g. `http://127.0.0.1:5001` (the `/api/v0` prefix is added). */
  url: string
  /** Blocks fetched ahead of a streaming reader (default 8). */
  prefetch?: number
  /** Byte-array adds below this size go through kubo-rpc-client's own `add`; everything else is streamed (default 4 MiB). */
  clientAddMax?: number
}

function isAbort(err: unknown, signal?: AbortSignal): boolean {
  return Boolean(signal?.aborted) || (err as Error)?.name === 'AbortError'
}

async function kubo<T>(endpoint: string, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    if (isAbort(err, signal)) throw signal?.reason ?? err
    if (err instanceof KuboRequestError) throw err
    throw new KuboRequestError(endpoint, (err as Error)?.message ?? String(err), err)
  }
}

/** Connect to a Kubo RPC API; fails with KuboUnreachableError when nothing answers. */
export async function createKuboModelStore(opts: KuboModelStoreOpts): Promise<ModelStore> {
  let base: URL
  try {
    base = new URL(opts.url)
  } catch {
    throw new InvalidStorageOptionError('--ipfs-api', opts.url, 'a URL like http://127.0.0.1:5001')
  }
  const client = create({ url: new URL(base) }) // the client rewrites the URL it is given
  try {
    await client.version({ signal: AbortSignal.timeout(10_000) })
  } catch (err) {
    throw new KuboUnreachableError(opts.url, err)
  }
  return new Kubo(base, client, opts)
}

class Kubo implements ModelStore {
  readonly backend = 'kubo' as const
  readonly #get = (cid: CID, o?: IoOptions) => this.#getVerified(cid, o)

  constructor(
    private readonly base: URL,
    private readonly client: KuboRPCClient,
    private readonly opts: KuboModelStoreOpts,
  ) {}

  async #getVerified(cid: CID, opts: IoOptions = {}): Promise<Uint8Array> {
    const bytes = await kubo('block/get', opts.signal, async () => {
      try {
        return await this.client.block.get(cid, { signal: opts.signal })
      } catch (err) {
        if (/not found|could not find/i.test((err as Error)?.message ?? '')) {
          throw new BlockNotFoundError(cid.toString(), err)
        }
        throw err
      }
    }).catch((err) => {
      if (err instanceof KuboRequestError && err.cause instanceof BlockNotFoundError) throw err.cause
      throw err
    })
    verifyBlock(cid, bytes)
    return bytes
  }

  async getBlock(cid: string, opts?: IoOptions): Promise<Uint8Array> {
    return this.#getVerified(parseCid(cid), opts)
  }

  async add(source: AddSource, opts: AddOptions = {}): Promise<AddResult> {
    const cidVersion = opts.cidVersion ?? 1
    if (cidVersion !== 0 && cidVersion !== 1) throw new InvalidStorageOptionError('cid version', cidVersion, '0 or 1')
    if (source instanceof Uint8Array && source.byteLength <= (this.opts.clientAddMax ?? 4 << 20)) {
      return this.#clientAdd(source, cidVersion, opts)
    }
    return streamedAdd(this.base, source, { ...opts, cidVersion })
  }

  async #clientAdd(bytes: Uint8Array, cidVersion: CidVersion, opts: AddOptions): Promise<AddResult> {
    const total = bytes.byteLength
    opts.onProgress?.({ op: 'add', done: 0, total })
    const res = await kubo('add', opts.signal, () =>
      this.client.add(bytes, {
        cidVersion,
        rawLeaves: cidVersion === 1,
        chunker: `size-${CHUNK_SIZE}`,
        pin: Boolean(opts.pin),
        signal: opts.signal,
        progress: (done: number) => opts.onProgress?.({ op: 'add', done, total }),
      }),
    )
    opts.onProgress?.({ op: 'add', done: total, total })
    return { cid: res.cid.toString(), size: total }
  }

  async *cat(cid: string, opts: ReadOptions = {}): AsyncIterable<Uint8Array> {
    const root = parseCid(cid)
    let total: number | undefined
    if (opts.onProgress) {
      const st = await statNode(this.#get, root, opts)
      total = Math.max(0, Math.min(st.size - (opts.offset ?? 0), opts.length ?? Number.POSITIVE_INFINITY))
    }
    let done = 0
    for await (const chunk of readFile(this.#get, root, { ...opts, prefetch: this.opts.prefetch ?? 8 })) {
      done += chunk.byteLength
      yield chunk
      opts.onProgress?.({ op: 'get', done, total, cid })
    }
  }

  async get(cid: string, path: string, opts: IoOptions = {}): Promise<AddResult> {
    return writeStreamToFile(this.cat(cid, opts), path, cid, opts.signal)
  }

  async stat(cid: string, opts: IoOptions = {}): Promise<StatResult> {
    const c = parseCid(cid)
    const st = await kubo('files/stat', opts.signal, () =>
      this.client.files.stat(`/ipfs/${c}`, { signal: opts.signal }),
    )
    const type = st.type === 'file' ? 'file' : st.type === 'directory' ? 'directory' : 'other'
    return { cid: c.toString(), type, size: type === 'file' ? Number(st.size) : 0 }
  }

  async pin(cid: string, opts: IoOptions = {}): Promise<void> {
    const c = parseCid(cid)
    await kubo('pin/add', opts.signal, () => this.client.pin.add(c, { signal: opts.signal }))
  }

  async unpin(cid: string, opts: IoOptions = {}): Promise<void> {
    const c = parseCid(cid)
    await kubo('pin/rm', opts.signal, () => this.client.pin.rm(c, { signal: opts.signal }))
  }

  async pins(opts: IoOptions = {}): Promise<PinEntry[]> {
    return kubo('pin/ls', opts.signal, async () => {
      const out: PinEntry[] = []
      for await (const p of this.client.pin.ls({ type: 'recursive', signal: opts.signal })) {
        out.push({ cid: p.cid.toString(), type: p.type as PinEntry['type'] })
      }
      return out
    })
  }

  async gc(opts: IoOptions = {}): Promise<{ removed: number }> {
    return kubo('repo/gc', opts.signal, async () => {
      let removed = 0
      for await (const r of this.client.repo.gc({ signal: opts.signal })) {
        if (r.err) throw r.err
        if (r.cid) removed++
      }
      return { removed }
    })
  }

  async close(): Promise<void> {}
}

/**
 * `POST /api/v0/add` with a multipart body streamed from the source through node:http, honouring
 * backpressure, so memory stays flat for any file size. Progress comes from Kubo's own progress lines.
 */
export async function streamedAdd(
  base: URL,
  source: AddSource,
  opts: AddOptions & { cidVersion: CidVersion },
): Promise<AddResult> {
  const { chunks, total } = await openSource(source, opts)
  const boundary = `----lattice-${randomBytes(12).toString('hex')}`
  const prefix = base.pathname.replace(/\/$/, '').replace(/\/api\/v0$/, '')
  const url = new URL(`${prefix}/api/v0/add`, base)
  const q = url.searchParams
  q.set('stream-channels', 'true')
  q.set('cid-version', String(opts.cidVersion))
  q.set('raw-leaves', String(opts.cidVersion === 1))
  q.set('chunker', `size-${CHUNK_SIZE}`)
  q.set('pin', String(Boolean(opts.pin)))
  q.set('progress', 'true')
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest
  opts.signal?.throwIfAborted()
  let resolve!: (r: AddResult) => void
  let reject!: (e: unknown) => void
  const promise = new Promise<AddResult>((res, rej) => {
    resolve = res
    reject = rej
  })
  let sent = 0
  let settled = false
  const fail = (err: unknown) => {
    if (settled) return
    settled = true
    req.destroy()
    reject(isAbort(err, opts.signal) ? (opts.signal?.reason ?? err) : err)
  }
  const req = request(url, {
    method: 'POST',
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'transfer-encoding': 'chunked' },
    signal: opts.signal,
  })
  req.on('error', (err) => fail(isAbort(err, opts.signal) ? err : new KuboRequestError('add', err.message, err)))
  req.on('response', (res) => {
    let buf = ''
    let result: AddResult | undefined
    let errorText = ''
    res.setEncoding('utf8')
    res.on('data', (text: string) => {
      if (res.statusCode !== 200) {
        errorText += text
        return
      }
      buf += text
      let nl = buf.indexOf('\n')
      while (nl >= 0) {
        const line = buf.slice(0, nl).trim()
        buf = buf.slice(nl + 1)
        nl = buf.indexOf('\n')
        if (!line) continue
        try {
          const msg = JSON.parse(line) as { Hash?: string; Bytes?: number; Message?: string }
          if (msg.Hash) result = { cid: msg.Hash, size: sent }
          else if (typeof msg.Bytes === 'number') opts.onProgress?.({ op: 'add', done: msg.Bytes, total })
          else if (msg.Message) errorText = msg.Message
        } catch {
          errorText = `unparseable reply line ${JSON.stringify(line.slice(0, 200))}`
        }
      }
    })
    res.on('error', (err) => fail(new KuboRequestError('add', err.message, err)))
    res.on('aborted', () => fail(new KuboRequestError('add', 'connection closed mid-reply')))
    res.on('end', () => {
      if (res.statusCode !== 200) {
        let message = errorText.trim() || `HTTP ${res.statusCode}`
        try {
          message = (JSON.parse(errorText) as { Message?: string }).Message ?? message
        } catch {}
        return fail(new KuboRequestError('add', message))
      }
      const streamError = res.trailers['x-stream-error']
      if (streamError) return fail(new KuboRequestError('add', String(streamError)))
      if (!result)
        return fail(new KuboRequestError('add', errorText || 'reply ended without a CID (connection dropped?)'))
      if (settled) return
      settled = true
      result.size = sent
      opts.onProgress?.({ op: 'add', done: sent, total: total ?? sent })
      resolve(result)
    })
  })
  const closed = () => new KuboRequestError('add', 'connection closed while uploading')
  const write = async (chunk: Uint8Array | string): Promise<void> => {
    if (req.destroyed) throw closed()
    if (req.write(chunk)) return
    await new Promise<void>((res, rej) => {
      const done = (err?: unknown) => {
        req.off('drain', onDrain)
        req.off('close', onClose)
        if (err) rej(err)
        else res()
      }
      const onDrain = () => done()
      const onClose = () => done(closed())
      req.on('drain', onDrain)
      req.on('close', onClose)
    })
  }
  ;(async () => {
    await write(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="file"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    )
    for await (const chunk of metered(chunks, { signal: opts.signal, total })) {
      if (settled) return
      await write(chunk)
      sent += chunk.byteLength
    }
    await write(`\r\n--${boundary}--\r\n`)
    req.end()
  })().catch((err) =>
    fail(
      isAbort(err, opts.signal) || err instanceof KuboRequestError
        ? err
        : new KuboRequestError('add', (err as Error).message, err),
    ),
  )
  return promise
}
