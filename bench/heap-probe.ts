// Heap analysis for the soak's RSS question (issue 15): attach to a node started with `--inspect=PORT` and
// sample where its memory is (V8 heap, external/array buffers, the rest of RSS), take heap snapshots after a
// forced GC, and compare two snapshots by constructor (count and self size).
//
//   node --import tsx bench/heap-probe.ts sample   --port 9231 [--every 15] [--pid PID] [--rpc URL] [--gc]
//   node --import tsx bench/heap-probe.ts snapshot --port 9231 --out a.heapsnapshot
//   node --import tsx bench/heap-probe.ts diff a.heapsnapshot b.heapsnapshot [--top 40]
//   node --import tsx bench/heap-probe.ts containers a.heapsnapshot b.heapsnapshot [--top 40]
//
// `diff` says what grew (constructors); `containers` says who holds it: arrays, maps and objects with many
// entries, keyed by their shortest retainer path from the GC roots, with their entry counts and the bytes they hold
// (what their entries lead to, 5 steps down) in each snapshot.
// (Node ids are not comparable between snapshots taken by different inspector sessions: V8 forgets them when
// the heap profiler is disabled, so both commands compare aggregates, never ids.)
//
// A snapshot's JSON must stay under V8's string limit (~512 MiB) to be compared here; a devnet's is ~100-200 MiB.
import { createWriteStream, readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import WebSocket from 'ws'

const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    port: { type: 'string', default: '9231' },
    every: { type: 'string', default: '15' },
    out: { type: 'string' },
    pid: { type: 'string' },
    top: { type: 'string', default: '40' },
    rpc: { type: 'string' },
    gc: { type: 'boolean', default: false },
  },
})

/** A Chrome DevTools Protocol session over the inspector's WebSocket. */
async function connect(port: string) {
  const list = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as { webSocketDebuggerUrl: string }[]
  const target = list[0]?.webSocketDebuggerUrl
  if (!target) throw new TypeError(`no inspector target on port ${port}`)
  const ws = new WebSocket(target, { maxPayload: 1 << 30 })
  await new Promise((ok, fail) => {
    ws.once('open', ok)
    ws.once('error', fail)
  })
  let id = 0
  const waiting = new Map<number, (r: any) => void>()
  const listeners = new Map<string, (p: any) => void>()
  ws.on('message', (data) => {
    const msg = JSON.parse(String(data))
    if (msg.id !== undefined) waiting.get(msg.id)?.(msg)
    else listeners.get(msg.method)?.(msg.params)
  })
  const send = (method: string, params: object = {}): Promise<any> =>
    new Promise((ok, fail) => {
      const n = ++id
      waiting.set(n, (m) => {
        waiting.delete(n)
        if (m.error) fail(new TypeError(`${method}: ${JSON.stringify(m.error)}`))
        else ok(m.result)
      })
      ws.send(JSON.stringify({ id: n, method, params }))
    })
  return { send, on: (m: string, f: (p: any) => void) => listeners.set(m, f), close: () => ws.close() }
}

const MiB = (b: number) => (b / 2 ** 20).toFixed(1)

function procStatus(pid: string): Record<string, number> {
  const out: Record<string, number> = {}
  try {
    for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
      const m = /^(VmRSS|Threads):\s+(\d+)/.exec(line)
      if (m?.[1]) out[m[1]] = Number(m[2]) * (m[1] === 'Threads' ? 1 : 1024)
    }
  } catch {}
  // where the resident memory is: glibc's main malloc arena is the brk [heap] mapping; other threads' arenas
  // are anonymous mappings at 64 MiB-aligned addresses (at most 64 MiB each); the rest of the anonymous memory
  // is V8's pages (every isolate: the main thread and each worker), wasm memories, stacks and large mmaps
  try {
    let cat = ''
    for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
      const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line)
      if (m) {
        const from = BigInt(`0x${m[1]}`)
        const size = BigInt(`0x${m[2]}`) - from
        const arena = from % (64n << 20n) === 0n && size <= 64n << 20n
        // file: mapped files (the node binary, libraries, LevelDB's mmapped tables: page cache the kernel can
        // take back, but counted in RSS, and growing with the datadir)
        cat = m[3] === '[heap]' ? 'brk' : m[3]?.startsWith('/') ? 'file' : m[3] ? '' : arena ? 'arenas' : 'otherAnon'
      } else if (cat && line.startsWith('Rss:')) out[cat] = (out[cat] ?? 0) + Number(line.split(/\s+/)[1]) * 1024
    }
  } catch {}
  return out
}

async function head(): Promise<string> {
  if (!flags.rpc) return '-'
  try {
    const r = await fetch(flags.rpc, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_blockNumber', params: [] }),
    })
    return String(Number(((await r.json()) as { result: string }).result))
  } catch {
    return '?'
  }
}

async function sample(): Promise<void> {
  const s = await connect(flags.port as string)
  const expr = 'JSON.stringify(process.memoryUsage())'
  console.log('time head rss_MiB brk arenas otherAnon file heapTotal heapUsed external arrayBuffers threads')
  for (;;) {
    // --gc: a full GC first, so heapUsed is the live heap (costs the node ~0.1-0.3 s per sample)
    if (flags.gc) await s.send('HeapProfiler.collectGarbage')
    const r = await s.send('Runtime.evaluate', { expression: expr, returnByValue: true })
    const m = JSON.parse(r.result.value) as NodeJS.MemoryUsage
    const st = flags.pid ? procStatus(flags.pid) : {}
    console.log(
      [
        new Date().toISOString().slice(11, 19),
        await head(),
        MiB(m.rss),
        MiB(st.brk ?? 0),
        MiB(st.arenas ?? 0),
        MiB(st.otherAnon ?? 0),
        MiB(st.file ?? 0),
        MiB(m.heapTotal),
        MiB(m.heapUsed),
        MiB(m.external),
        MiB(m.arrayBuffers),
        st.Threads ?? '-',
      ].join(' '),
    )
    await new Promise((r) => setTimeout(r, Number(flags.every) * 1000))
  }
}

async function snapshot(): Promise<void> {
  if (!flags.out) throw new TypeError('snapshot: --out FILE')
  const s = await connect(flags.port as string)
  const file = createWriteStream(flags.out)
  s.on('HeapProfiler.addHeapSnapshotChunk', (p) => file.write(p.chunk))
  await s.send('HeapProfiler.enable')
  await s.send('HeapProfiler.collectGarbage')
  await s.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false })
  await new Promise((r) => file.end(r))
  s.close()
  console.log(`wrote ${flags.out}`)
}

interface Group {
  count: number
  size: number
}

/** Count and self size of the live nodes of a snapshot, grouped by type and constructor / name. */
function groups(path: string): Map<string, Group> {
  const snap = JSON.parse(readFileSync(path, 'utf8'))
  const meta = snap.snapshot.meta
  const fields: string[] = meta.node_fields
  const types: string[] = meta.node_types[0]
  const nf = fields.length
  const iType = fields.indexOf('type')
  const iName = fields.indexOf('name')
  const iSize = fields.indexOf('self_size')
  const nodes: number[] = snap.nodes
  const strings: string[] = snap.strings
  const out = new Map<string, Group>()
  for (let i = 0; i < nodes.length; i += nf) {
    const type = types[nodes[i + iType] as number] as string
    const name = strings[nodes[i + iName] as number] as string
    // strings and numbers by type only; objects, closures, native and arrays by name
    const key =
      type === 'string' || type === 'concatenated string' || type === 'sliced string' || type === 'number'
        ? type
        : type === 'code'
          ? 'code'
          : `${type}:${name.slice(0, 60)}`
    const g = out.get(key) ?? { count: 0, size: 0 }
    g.count++
    g.size += nodes[i + iSize] as number
    out.set(key, g)
  }
  return out
}

function diff(a: string, b: string): void {
  const ga = groups(a)
  const gb = groups(b)
  const rows: { key: string; dc: number; ds: number; cb: number; sb: number }[] = []
  for (const key of new Set([...ga.keys(), ...gb.keys()])) {
    const x = ga.get(key) ?? { count: 0, size: 0 }
    const y = gb.get(key) ?? { count: 0, size: 0 }
    rows.push({ key, dc: y.count - x.count, ds: y.size - x.size, cb: y.count, sb: y.size })
  }
  const total = (g: Map<string, Group>) => [...g.values()].reduce((t, v) => t + v.size, 0)
  console.log(`self size ${MiB(total(ga))} -> ${MiB(total(gb))} MiB`)
  console.log('d_size_KiB d_count count_b size_b_KiB  group')
  rows.sort((p, q) => q.ds - p.ds)
  for (const r of rows.slice(0, Number(flags.top)))
    console.log(
      `${(r.ds / 1024).toFixed(0).padStart(9)} ${String(r.dc).padStart(8)} ${String(r.cb).padStart(8)} ${(r.sb / 1024).toFixed(0).padStart(10)}  ${r.key}`,
    )
}

/**
 * Containers with >= 300 edges, keyed by label and shortest retainer path (4 steps: further up, paths vary between
 * snapshots), with summed edge counts and the bytes they hold (estimated, see held()).
 */
function containers(path: string): Map<string, { edges: number; bytes: number }> {
  const snap = JSON.parse(readFileSync(path, 'utf8'))
  const meta = snap.snapshot.meta
  const nf: number = meta.node_fields.length
  const ef: number = meta.edge_fields.length
  const iType = meta.node_fields.indexOf('type')
  const iName = meta.node_fields.indexOf('name')
  const iEdges = meta.node_fields.indexOf('edge_count')
  const nodeTypes: string[] = meta.node_types[0]
  const edgeTypes: string[] = meta.edge_types[0]
  const nodes: number[] = snap.nodes
  const edges: number[] = snap.edges
  const strings: string[] = snap.strings
  const n = nodes.length / nf
  const first = new Int32Array(n + 1)
  for (let i = 0, e = 0; i < n; i++) {
    first[i] = e
    e += (nodes[i * nf + iEdges] as number) * ef
    first[i + 1] = e
  }
  const label = (i: number) =>
    `${nodeTypes[nodes[i * nf + iType] as number]}:${String(strings[nodes[i * nf + iName] as number]).slice(0, 30)}`
  // breadth-first from the root: each node's parent on a shortest strong path
  const parent = new Int32Array(n).fill(-1)
  const via: string[] = new Array(n)
  const queue = [0]
  parent[0] = 0
  // the stack and handle scopes hold whatever was running when the snapshot was taken: paths through them
  // change from one snapshot to the next, so they are not followed
  const transient = new Set(['(Stack roots)', '(Handle scope)'])
  for (let h = 0; h < queue.length; h++) {
    const i = queue[h] as number
    if (transient.has(String(strings[nodes[i * nf + iName] as number]))) continue
    for (let e = first[i] as number; e < (first[i + 1] as number); e += ef) {
      const t = edgeTypes[edges[e] as number] as string
      if (t === 'weak' || t === 'shortcut') continue
      const to = (edges[e + 2] as number) / nf
      if (parent[to] !== -1) continue
      parent[to] = i
      via[to] = t === 'element' || t === 'hidden' || t === 'internal' ? t : String(strings[edges[e + 1] as number])
      queue.push(to)
    }
  }
  // bytes a container holds: self sizes of what its edges lead to, up to 5 steps down (a Map's table -> an entry
  // -> a Uint8Array -> its ArrayBuffer -> the backing store), each node once; shapes, code and other shared
  // system objects are not followed, so this is an estimate of what dropping the container would free
  const iSize = meta.node_fields.indexOf('self_size')
  const skip = new Set(['object shape', 'code', 'hidden', 'synthetic'])
  const seen = new Int32Array(n).fill(-1)
  const held = (root: number): number => {
    let bytes = 0
    let level = [root]
    seen[root] = root
    for (let d = 0; d <= 5 && level.length > 0; d++) {
      const next: number[] = []
      for (const i of level) {
        bytes += nodes[i * nf + iSize] as number
        if (d === 5) continue
        for (let e = first[i] as number; e < (first[i + 1] as number); e += ef) {
          const t = edgeTypes[edges[e] as number] as string
          if (t === 'weak' || t === 'shortcut') continue
          if (t === 'property' && ['__proto__', 'constructor', 'map'].includes(String(strings[edges[e + 1] as number])))
            continue
          const to = (edges[e + 2] as number) / nf
          if (seen[to] === root || skip.has(nodeTypes[nodes[to * nf + iType] as number] as string)) continue
          seen[to] = root
          next.push(to)
        }
      }
      level = next
    }
    return bytes
  }
  const out = new Map<string, { edges: number; bytes: number }>()
  for (let i = 0; i < n; i++) {
    const count = nodes[i * nf + iEdges] as number
    if (count < 300) continue
    const steps: string[] = []
    for (let cur = i, d = 0; d < 4 && cur !== 0 && (parent[cur] as number) >= 0; d++) {
      steps.push(`${via[cur]}<-${label(parent[cur] as number)}`)
      cur = parent[cur] as number
    }
    const key = `${label(i)}  ${steps.join(' ')}`
    const o = out.get(key) ?? { edges: 0, bytes: 0 }
    o.edges += count
    o.bytes += held(i)
    out.set(key, o)
  }
  return out
}

function compareContainers(a: string, b: string): void {
  const ca = containers(a)
  const cb = containers(b)
  const none = { edges: 0, bytes: 0 }
  const rows = [...new Set([...ca.keys(), ...cb.keys()])].map((k) => ({
    key: k,
    a: ca.get(k) ?? none,
    b: cb.get(k) ?? none,
  }))
  rows.sort((p, q) => Math.abs(q.b.bytes - q.a.bytes) - Math.abs(p.b.bytes - p.a.bytes))
  console.log('   edges_a    edges_b  MiB_a  MiB_b  container and its shortest retainer path')
  for (const r of rows.slice(0, Number(flags.top)))
    console.log(
      `${String(r.a.edges).padStart(10)} ${String(r.b.edges).padStart(10)} ${MiB(r.a.bytes).padStart(6)} ${MiB(r.b.bytes).padStart(6)}  ${r.key}`,
    )
}

const cmd = positionals[0]
if (cmd === 'sample') await sample()
else if (cmd === 'snapshot') await snapshot()
else if (cmd === 'diff') diff(positionals[1] as string, positionals[2] as string)
else if (cmd === 'containers') compareContainers(positionals[1] as string, positionals[2] as string)
else throw new TypeError('heap-probe: sample | snapshot | diff | containers (see the header)')
