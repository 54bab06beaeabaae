// ONNX backend conformance over Debian's libonnx-testdata: every case runs through our codec and adapter
// under the consensus profile and through the FLOP counter. `npm run onnx-conformance` runs them all;
// test/inference/conformance.test.ts runs a sample.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import onnxProto from 'onnx-proto'
import { LatticeError } from '../../src/errors.ts'
import { countFlops, type InputShape } from '../../src/inference/flops.ts'
import { ELEM_NAMES } from '../../src/inference/graph-io.ts'
import { createConsensusSession, fromOrtTensor, type OrtTensor, ortTensor } from '../../src/inference/onnx.ts'
import { num, protoDims } from '../../src/inference/proto.ts'
import { isDtypeCode, type Tensor, tensorValues } from '../../src/inference/tensor.ts'

const { onnx } = onnxProto

/** Where Debian's libonnx-testdata puts the cases. */
export const TESTDATA_DIR = '/usr/share/libonnx-testdata/data'

export interface CaseResult {
  name: string
  /** ort: pass | fail (mismatch) | error (load/run failed) | skip (input type we cannot feed) */
  ort: 'pass' | 'fail' | 'error' | 'skip'
  /** whether all inputs and outputs went through the canonical codec (vs the raw ONNX Runtime path) */
  codec: boolean
  ortDetail?: string
  /** counter: ok | refused (typed error naming the op) | crash (anything else: a bug) */
  counter: 'ok' | 'refused' | 'crash'
  counterDetail?: string
  /** counter's inferred output shapes equal the reference outputs' (when both known) */
  shapesAgree?: boolean
}

/** All case directories (those with a model.onnx), sorted. */
export function listCases(dir = TESTDATA_DIR): string[] {
  if (!existsSync(dir)) return []
  const out: string[] = []
  for (const group of readdirSync(dir).sort()) {
    const g = join(dir, group)
    for (const c of readdirSync(g).sort()) if (existsSync(join(g, c, 'model.onnx'))) out.push(join(g, c))
  }
  return out
}

type ProtoT = onnxProto.onnx.TensorProto

const ORT_TYPE = ELEM_NAMES

/** Raw little-endian bytes of a TensorProto (from raw_data or the typed fields). */
function protoBytes(t: ProtoT): Uint8Array | undefined {
  const n = protoDims(t).reduce((a, b) => a * b, 1)
  if (t.rawData?.length) return t.rawData
  const dt = t.dataType
  const size = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8 }[dt]
  if (!size) return undefined
  const buf = new Uint8Array(n * size)
  const dv = new DataView(buf.buffer)
  for (let i = 0; i < n; i++) {
    const o = i * size
    switch (dt) {
      case 1:
        dv.setFloat32(o, t.floatData[i], true)
        break
      case 11:
        dv.setFloat64(o, t.doubleData[i], true)
        break
      case 7:
        dv.setBigInt64(o, BigInt(String(t.int64Data[i])), true)
        break
      case 12:
        dv.setUint32(o, num(t.uint64Data[i]), true)
        break
      case 13:
        dv.setBigUint64(o, BigInt(String(t.uint64Data[i])), true)
        break
      case 2:
      case 9:
        dv.setUint8(o, t.int32Data[i])
        break
      case 3:
        dv.setInt8(o, t.int32Data[i])
        break
      case 4:
      case 10:
        dv.setUint16(o, t.int32Data[i], true)
        break
      case 5:
        dv.setInt16(o, t.int32Data[i], true)
        break
      case 6:
        dv.setInt32(o, t.int32Data[i], true)
        break
    }
  }
  return buf
}

function toOrt(t: ProtoT): OrtTensor | undefined {
  const type = ORT_TYPE[t.dataType]
  if (!type) return undefined
  const dims = protoDims(t)
  if (type === 'string')
    return ortTensor(
      'string',
      t.stringData.map((s) => new TextDecoder().decode(s)),
      dims,
    )
  const b = protoBytes(t)
  if (!b) return undefined
  const copy = new Uint8Array(b)
  const C = {
    float32: Float32Array,
    uint8: Uint8Array,
    int8: Int8Array,
    uint16: Uint16Array,
    int16: Int16Array,
    int32: Int32Array,
    int64: BigInt64Array,
    bool: Uint8Array,
    float16: Uint16Array,
    float64: Float64Array,
    uint32: Uint32Array,
    uint64: BigUint64Array,
  }[type] as unknown as { new (b: ArrayBuffer): ArrayBufferView }
  return ortTensor(type, new C(copy.buffer), dims)
}

function toCodec(name: string, t: ProtoT): Tensor | undefined {
  if (!isDtypeCode(t.dataType)) return undefined
  const b = protoBytes(t)
  return b ? { name, dtype: t.dataType, shape: protoDims(t), data: new Uint8Array(b) } : undefined
}

function numbers(v: OrtTensor): (number | string)[] {
  const d = v.data as ArrayLike<number | bigint | string>
  return Array.from(d, (x) => (typeof x === 'bigint' ? Number(x) : x))
}

function close(got: (number | string)[], want: (number | string)[], float: boolean): string | undefined {
  if (got.length !== want.length) return `length ${got.length} vs ${want.length}`
  for (let i = 0; i < got.length; i++) {
    const g = got[i]
    const w = want[i]
    if (typeof g === 'string' || typeof w === 'string') {
      if (g !== w) return `#${i}: ${g} vs ${w}`
      continue
    }
    if (Number.isNaN(g) && Number.isNaN(w)) continue
    if (float) {
      if (g === w) continue
      if (!(Math.abs(g - w) <= 1e-7 + 1e-3 * Math.abs(w))) return `#${i}: ${g} vs ${w}`
    } else if (g !== w) return `#${i}: ${g} vs ${w}`
  }
  return undefined
}

function readPb(path: string): { tensor?: ProtoT; kind: string } {
  const bytes = readFileSync(path)
  try {
    const t = onnx.TensorProto.decode(bytes)
    // a SequenceProto/OptionalProto decodes as a TensorProto with no type; reject those
    if (!t.dataType) return { kind: 'non-tensor' }
    return { tensor: t, kind: 'tensor' }
  } catch {
    return { kind: 'non-tensor' }
  }
}

/** Run one case: ONNX Runtime (through the codec when its dtypes allow) and the FLOP counter. */
export async function runCase(dir: string): Promise<CaseResult> {
  const name = dir.split('/').slice(-2).join('/')
  const model = readFileSync(join(dir, 'model.onnx'))
  const m = onnx.ModelProto.decode(model)
  const g = m.graph as onnxProto.onnx.GraphProto
  const inits = new Set(g.initializer.map((i) => i.name ?? ''))
  const inputNames = g.input.map((i) => i.name ?? '').filter((n) => !inits.has(n))
  const outputNames = g.output.map((o) => o.name ?? '')
  const set = readdirSync(dir).find((d) => d.startsWith('test_data_set'))
  const res: CaseResult = { name, ort: 'skip', codec: false, counter: 'ok' }
  const inputs: ProtoT[] = []
  const outputs: ProtoT[] = []
  // sequence / optional graph inputs and outputs have no tensor form
  let feedable = [...g.input.filter((i) => !inits.has(i.name ?? '')), ...g.output].every((v) => v.type?.tensorType)
  if (set) {
    for (let i = 0; i < inputNames.length; i++) {
      const p = join(dir, set, `input_${i}.pb`)
      if (!existsSync(p)) break
      const r = readPb(p)
      if (!r.tensor) feedable = false
      else inputs.push(r.tensor)
    }
    for (let i = 0; i < outputNames.length; i++) {
      const p = join(dir, set, `output_${i}.pb`)
      if (!existsSync(p)) break
      const r = readPb(p)
      if (!r.tensor) feedable = false
      else outputs.push(r.tensor)
    }
  } else feedable = false

  // FLOP counter with the case's input shapes (and values of small integer inputs)
  const shapes: Record<string, InputShape> = {}
  inputs.forEach((t, i) => {
    const n = t.name && inputNames.includes(t.name) ? t.name : inputNames[i]
    const dims = protoDims(t)
    // small inputs carry their values: they may decide shapes (Reshape targets, Resize scales, ...)
    const small = dims.reduce((a, b) => a * b, 1) <= 64 && t.dataType !== 8 && t.dataType !== 10
    const ot = small ? toOrt(t) : undefined
    shapes[n] = ot ? { shape: dims, values: numbers(ot) as number[] } : dims
  })
  try {
    const report = countFlops({ model, inputs: shapes })
    if (report.outputShapes && outputs.length === outputNames.length) {
      res.shapesAgree = outputNames.every((o, i) => {
        const want = protoDims(outputs[i])
        const got = report.outputShapes?.[o]
        return got !== undefined && got.length === want.length && got.every((d, j) => d === want[j])
      })
    }
  } catch (err) {
    if (err instanceof LatticeError) {
      res.counter = 'refused'
      res.counterDetail = err.shortMessage
    } else {
      res.counter = 'crash'
      res.counterDetail = (err as Error).stack
    }
  }

  if (!feedable || inputs.length !== inputNames.length || outputs.length !== outputNames.length) {
    res.ortDetail = 'sequence/optional inputs or outputs'
    return res
  }
  let session: Awaited<ReturnType<typeof createConsensusSession>> | undefined
  try {
    session = await createConsensusSession({ model })
    const codecIn = inputs.map((t, i) => toCodec(inputNames[i], t))
    const codecOut = outputs.every((t) => isDtypeCode(t.dataType))
    let got: OrtTensor[] | Tensor[]
    if (codecIn.every((t) => t) && codecOut && session.inputs.every((i) => i.dtype !== 'non-tensor')) {
      res.codec = true
      got = await session.run(codecIn as Tensor[])
    } else {
      const feeds: Record<string, OrtTensor> = {}
      for (let i = 0; i < inputs.length; i++) {
        const o = toOrt(inputs[i])
        if (!o) {
          res.ort = 'skip'
          res.ortDetail = `input dtype ${inputs[i].dataType} has no ONNX Runtime tensor type`
          return res
        }
        feeds[inputNames[i]] = o
      }
      const out = await session.runOrt(feeds)
      got = outputNames.map((n) => out[n])
    }
    for (let i = 0; i < outputs.length; i++) {
      const want = toOrt(outputs[i])
      if (!want) {
        res.ort = 'skip'
        res.ortDetail = `output dtype ${outputs[i].dataType} cannot be compared`
        return res
      }
      const gi = got[i]
      let gv: (number | string)[]
      let gshape: readonly number[]
      if ('dtype' in gi && gi.data instanceof Uint8Array && 'name' in gi) {
        gv = tensorValues(gi as Tensor).map((x) => Number(x))
        gshape = (gi as Tensor).shape
      } else {
        const ot = gi as OrtTensor
        if (ot.type !== want.type) {
          res.ort = 'fail'
          res.ortDetail = `output ${i} type ${ot.type} vs ${want.type}`
          return res
        }
        gv = ot.type === 'float16' ? tensorValues(fromOrtTensor('g', ot)).map(Number) : numbers(ot)
        gshape = ot.dims
      }
      const wshape = want.dims
      if (gshape.length !== wshape.length || gshape.some((d, j) => d !== wshape[j])) {
        res.ort = 'fail'
        res.ortDetail = `output ${i} shape [${gshape}] vs [${wshape}]`
        return res
      }
      const float = ['float32', 'float16', 'float64'].includes(want.type)
      const wv = want.type === 'float16' ? tensorValues(fromOrtTensor('w', want)).map(Number) : numbers(want)
      const diff = close(gv, wv, float)
      if (diff) {
        res.ort = 'fail'
        res.ortDetail = `output ${i} ${diff}`
        return res
      }
    }
    res.ort = 'pass'
  } catch (err) {
    res.ort = 'error'
    res.ortDetail = err instanceof LatticeError ? err.shortMessage : (err as Error).message.split('\n')[0]
  } finally {
    await session?.dispose()
  }
  return res
}

/** Summary counts of a run. */
export function summarise(results: CaseResult[]): Record<string, number> {
  const c = (f: (r: CaseResult) => boolean): number => results.filter(f).length
  return {
    cases: results.length,
    ortPass: c((r) => r.ort === 'pass'),
    ortFail: c((r) => r.ort === 'fail'),
    ortError: c((r) => r.ort === 'error'),
    ortLoadError: c((r) => r.ort === 'error' && /could not be loaded/.test(r.ortDetail ?? '')),
    ortSkip: c((r) => r.ort === 'skip'),
    viaCodec: c((r) => r.codec),
    counterOk: c((r) => r.counter === 'ok'),
    counterRefused: c((r) => r.counter === 'refused'),
    counterCrash: c((r) => r.counter === 'crash'),
    shapesAgree: c((r) => r.shapesAgree === true),
    shapesDisagree: c((r) => r.shapesAgree === false),
  }
}

async function main(): Promise<void> {
  const verbose = process.argv.includes('--verbose')
  const filter = process.argv.find((a) => a.startsWith('--filter='))?.slice(9)
  const cases = listCases().filter((c) => !filter || c.includes(filter))
  if (cases.length === 0) {
    process.stderr.write(
      `No test cases under ${TESTDATA_DIR}. Install Debian's libonnx-testdata (apt-get install libonnx-testdata).\n`,
    )
    process.exitCode = 1
    return
  }
  const results: CaseResult[] = []
  for (const c of cases) {
    const r = await runCase(c)
    results.push(r)
    if (verbose || r.counter === 'crash') {
      process.stdout.write(
        `${r.name}: ort=${r.ort}${r.ortDetail ? ` (${r.ortDetail})` : ''} counter=${r.counter}${r.counterDetail ? ` (${r.counterDetail})` : ''}${r.shapesAgree === false ? ' SHAPE-DISAGREE' : ''}\n`,
      )
    }
  }
  const s = summarise(results)
  const pct = (n: number, d: number): string => `${((100 * n) / d).toFixed(1)}%`
  const ran = s.cases - s.ortSkip
  process.stdout.write(
    [
      `libonnx-testdata: ${s.cases} cases`,
      `ONNX Runtime (consensus profile): ${s.ortPass} pass, ${s.ortFail} mismatch, ${s.ortError} error (${s.ortLoadError} of them: ONNX Runtime has no kernel for the op/type), ${s.ortSkip} not runnable (sequence/optional data); pass rate ${pct(s.ortPass, s.cases)} of all, ${pct(s.ortPass, ran)} of runnable, ${pct(s.ortPass, ran - s.ortLoadError)} of cases ONNX Runtime loads; ${s.viaCodec} through the canonical codec`,
      `FLOP counter: ${s.counterOk} counted, ${s.counterRefused} refused (named op), ${s.counterCrash} crashed; handles ${pct(s.counterOk, s.cases)}`,
      `counter output shapes vs reference: ${s.shapesAgree} agree, ${s.shapesDisagree} disagree`,
      '',
    ].join('\n'),
  )
  const refused = new Map<string, number>()
  for (const r of results)
    if (r.counter === 'refused') refused.set(r.counterDetail ?? '', (refused.get(r.counterDetail ?? '') ?? 0) + 1)
  if (verbose) for (const [k, v] of refused) process.stdout.write(`  refused x${v}: ${k}\n`)
  if (s.counterCrash > 0) process.exitCode = 1
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main()
