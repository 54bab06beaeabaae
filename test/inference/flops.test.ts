import { readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { buildBigramModel } from '../../examples/models/bigram.ts'
import { buildEdgeModel } from '../../examples/models/edges.ts'
import { buildIrisModel } from '../../examples/models/iris.ts'
import { buildModel, ElemType, type GraphSpec, type NodeSpec } from '../../src/inference/builder.ts'
import { UnshapedInputError, UnsupportedOpError } from '../../src/inference/errors.ts'
import { countFlops, parseShapeArg } from '../../src/inference/flops.ts'
import { createSession } from '../../src/inference/onnx.ts'
import { CONSENSUS_PROFILE_V1 } from '../../src/inference/profile.ts'
import { DType, tensorFromValues } from '../../src/inference/tensor.ts'
import { restoreStripped, TORCHVISION_GMACS, torchvisionFixture } from './helpers/fixtures.ts'

const F = ElemType.float32
const I64 = ElemType.int64
const i64 = (name: string, v: number[], dims = [v.length]) => ({
  name,
  elemType: I64,
  dims,
  data: new BigInt64Array(v.map(BigInt)),
})
const f32 = (name: string, dims: number[]) => ({
  name,
  elemType: F,
  dims,
  data: new Float32Array(dims.reduce((a, b) => a * b, 1)),
})

describe('FLOP counter vs torchvision', () => {
  for (const [name, gmacs] of Object.entries(TORCHVISION_GMACS)) {
    it(`${name}: MACs within 0.5% of torchvision's ${gmacs} GMACs at 224x224`, () => {
      const r = countFlops({ model: torchvisionFixture(name) })
      const ours = r.macs / 1e9
      expect(Math.abs(ours - gmacs) / gmacs).toBeLessThan(0.005)
      expect(r.flops).toBeGreaterThan(2 * r.macs)
      expect(r.params).toBeGreaterThan(1e6)
      const sum = Object.values(r.byOp).reduce((a, b) => a + b.flops, 0)
      expect(sum).toBe(r.flops)
    })
  }
  it('refuses a given shape that contradicts a static input dimension', () => {
    expect(() => countFlops({ model: torchvisionFixture('resnet18'), inputs: { input: [4, 3, 224, 224] } })).toThrow(
      "given shape [4,3,224,224] does not match the model's [1,3,224,224]",
    )
  })
})

describe('FLOP counter vs ONNX Runtime profiler', () => {
  for (const name of ['resnet18', 'mobilenet_v2'])
    it(`per-node Conv/Gemm MACs from the profiler input/output shapes equal the counter (${name})`, async () => {
      const model = restoreStripped(torchvisionFixture(name))
      const prefix = join(tmpdir(), `lattice-prof-${process.pid}-${name}`)
      // the native runtime: only it has ONNX Runtime's profiler (the shapes it reports do not depend on the runtime)
      const s = await createSession({ model, profile: CONSENSUS_PROFILE_V1, profileFilePrefix: prefix })
      const x = tensorFromValues('input', DType.float32, [1, 3, 224, 224], new Array(3 * 224 * 224).fill(0.5))
      await s.run([x])
      s.endProfiling()
      await s.dispose()
      const file = readdirSync(tmpdir())
        .filter((f) => f.startsWith(`lattice-prof-${process.pid}-${name}`))
        .map((f) => join(tmpdir(), f))[0]
      expect(file).toBeTruthy()
      const events = JSON.parse(readFileSync(file, 'utf8')) as {
        cat: string
        name: string
        args: {
          op_name?: string
          input_type_shape?: Record<string, number[]>[]
          output_type_shape?: Record<string, number[]>[]
        }
      }[]
      rmSync(file)
      const shapes = (l?: Record<string, number[]>[]): number[][] => (l ?? []).map((o) => Object.values(o)[0])
      let profMacs = 0
      let nodes = 0
      const seen = new Set<string>()
      for (const e of events) {
        if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || seen.has(e.name)) continue
        seen.add(e.name)
        const op = e.args.op_name
        const ins = shapes(e.args.input_type_shape)
        const outs = shapes(e.args.output_type_shape)
        if (op === 'Conv') {
          const [w] = [ins[1]]
          profMacs += outs[0].reduce((a, b) => a * b, 1) * w.slice(1).reduce((a, b) => a * b, 1)
          nodes++
        } else if (op === 'Gemm') {
          profMacs += ins[0][0] * ins[0][1] * outs[0][1]
          nodes++
        }
      }
      const r = countFlops({ model })
      expect(nodes).toBe(r.byOp.Conv.count + r.byOp.Gemm.count)
      expect(profMacs).toBe(r.macs)
    })
})

function one(
  node: NodeSpec,
  inputs: GraphSpec['inputs'],
  outputs: GraphSpec['outputs'],
  opset = 17,
  extra: Partial<GraphSpec> = {},
) {
  return buildModel({ inputs, outputs, nodes: [node], opset, ...extra })
}

describe('FLOP counter rules', () => {
  it('a decoded counter gives the same report for many shapes', async () => {
    const { createFlopCounter } = await import('../../src/inference/flops.ts')
    const c = createFlopCounter({ model: buildIrisModel() })
    for (const n of [1, 7, 64])
      expect(c.count({ x: [n, 4] })).toEqual(countFlops({ model: buildIrisModel(), inputs: { x: [n, 4] } }))
    expect(c.count({ x: [7, 4] }).macs).toBe(7 * 12)
  })

  it('counts the example models', () => {
    const iris = countFlops({ model: buildIrisModel(), inputs: { x: [10, 4] } })
    expect(iris.macs).toBe(10 * 4 * 3)
    expect(iris.byOp.Add.flops).toBe(30)
    expect(iris.byOp.Softmax.flops).toBe(30)
    expect(iris.byOp.ArgMax.flops).toBe(30)
    expect(iris.params).toBe(15)
    const edges = countFlops({ model: buildEdgeModel(), inputs: { image: [1, 3, 32, 48] } })
    expect(edges.byOp.Conv.macs).toBe(32 * 48 * 3 + 2 * 32 * 48 * 9)
    const bigram = countFlops({ model: buildBigramModel(), inputs: { tokens: [1, 5] } })
    expect(bigram.macs).toBe(5 * 28 * 28)
    expect(bigram.byOp.Gather.flops).toBe(0)
  })

  it('refuses an unknown op, naming it and the node', () => {
    const m = one(
      { op: 'FancyOp', inputs: ['x'], outputs: ['y'], name: 'fancy_1' },
      [{ name: 'x', elemType: F, shape: [2] }],
      [{ name: 'y', elemType: F, shape: [2] }],
    )
    const err = (() => {
      try {
        countFlops({ model: m })
      } catch (e) {
        return e
      }
    })()
    expect(err).toBeInstanceOf(UnsupportedOpError)
    expect((err as UnsupportedOpError).op).toBe('FancyOp')
    expect((err as Error).message).toBe(
      'cannot count op FancyOp (node "fancy_1"): the FLOP counter has no rule for this op',
    )
    const custom = one(
      { op: 'Attention', domain: 'com.microsoft', inputs: ['x'], outputs: ['y'], name: 'attn' },
      [{ name: 'x', elemType: F, shape: [2] }],
      [{ name: 'y', elemType: F, shape: [2] }],
      17,
      { domains: { 'com.microsoft': 1 } } as Partial<GraphSpec>,
    )
    expect(() => countFlops({ model: custom })).toThrow('cannot count op com.microsoft.Attention (node "attn")')
  })

  it('needs concrete shapes for dynamic inputs and names the input', () => {
    expect(() => countFlops({ model: buildIrisModel() })).toThrow(UnshapedInputError)
    expect(() => countFlops({ model: buildIrisModel() })).toThrow(
      'input "x" has dynamic shape [N,4]; pass its concrete shape (e.g. --input x=1x4)',
    )
    expect(() => countFlops({ model: buildIrisModel(), inputs: { x: [1, 4], y: [1] } })).toThrow(
      'input "y" is not an input of the model (inputs: x)',
    )
    expect(parseShapeArg('x=1x3x224x224')).toEqual(['x', [1, 3, 224, 224]])
    expect(() => parseShapeArg('x=1xA')).toThrow('"1xA" is not a shape')
  })

  it('refuses a shape that depends on a runtime value', () => {
    const m = one(
      { op: 'Reshape', inputs: ['x', 's'], outputs: ['y'] },
      [
        { name: 'x', elemType: F, shape: [6] },
        { name: 's', elemType: I64, shape: [2] },
      ],
      [{ name: 'y', elemType: F, shape: ['a', 'b'] }],
    )
    expect(() => countFlops({ model: m })).toThrow(
      'cannot count op Reshape (node "Reshape_0"): the value of the target shape (input 1) is not known statically',
    )
    // with the value given (the precompile knows it), it counts
    expect(countFlops({ model: m, inputs: { s: { shape: [2], values: [2, 3] } } }).outputShapes.y).toEqual([2, 3])
  })

  it('handles opset differences: Squeeze/Unsqueeze/ReduceSum/Split axes as attribute or input, Slice v1 vs v10', () => {
    const x = [{ name: 'x', elemType: F, shape: [1, 6, 1] }]
    const sqAttr = one(
      { op: 'Squeeze', inputs: ['x'], outputs: ['y'], attrs: { axes: { ints: [0, 2] } } },
      x,
      [{ name: 'y', elemType: F, shape: [6] }],
      11,
    )
    const sqInput = one(
      { op: 'Squeeze', inputs: ['x', 'a'], outputs: ['y'] },
      x,
      [{ name: 'y', elemType: F, shape: [6] }],
      13,
      {
        initializers: [i64('a', [0, 2])],
      },
    )
    expect(countFlops({ model: sqAttr }).outputShapes.y).toEqual([6])
    expect(countFlops({ model: sqInput }).outputShapes.y).toEqual([6])
    const rsAttr = one(
      { op: 'ReduceSum', inputs: ['x'], outputs: ['y'], attrs: { axes: { ints: [1] }, keepdims: { i: 0 } } },
      x,
      [{ name: 'y', elemType: F, shape: [1, 1] }],
      11,
    )
    const rsInput = one(
      { op: 'ReduceSum', inputs: ['x', 'a'], outputs: ['y'], attrs: { keepdims: { i: 0 } } },
      x,
      [{ name: 'y', elemType: F, shape: [1, 1] }],
      13,
      {
        initializers: [i64('a', [1])],
      },
    )
    expect(countFlops({ model: rsAttr }).outputShapes.y).toEqual([1, 1])
    expect(countFlops({ model: rsInput }).outputShapes.y).toEqual([1, 1])
    expect(countFlops({ model: rsInput }).flops).toBe(6)
    const splitAttr = buildModel({
      opset: 11,
      inputs: x,
      outputs: [
        { name: 'a', elemType: F, shape: [1, 2, 1] },
        { name: 'b', elemType: F, shape: [1, 4, 1] },
      ],
      nodes: [{ op: 'Split', inputs: ['x'], outputs: ['a', 'b'], attrs: { axis: { i: 1 }, split: { ints: [2, 4] } } }],
    })
    const splitInput = buildModel({
      opset: 13,
      inputs: x,
      outputs: [
        { name: 'a', elemType: F, shape: [1, 2, 1] },
        { name: 'b', elemType: F, shape: [1, 4, 1] },
      ],
      initializers: [i64('sp', [2, 4])],
      nodes: [{ op: 'Split', inputs: ['x', 'sp'], outputs: ['a', 'b'], attrs: { axis: { i: 1 } } }],
    })
    for (const m of [splitAttr, splitInput])
      expect(countFlops({ model: m }).outputShapes).toEqual({ a: [1, 2, 1], b: [1, 4, 1] })
    const slice1 = one(
      {
        op: 'Slice',
        inputs: ['x'],
        outputs: ['y'],
        attrs: { starts: { ints: [1] }, ends: { ints: [5] }, axes: { ints: [1] } },
      },
      x,
      [{ name: 'y', elemType: F, shape: [1, 4, 1] }],
      9,
    )
    const slice10 = one(
      { op: 'Slice', inputs: ['x', 's', 'e', 'a', 'st'], outputs: ['y'] },
      x,
      [{ name: 'y', elemType: F, shape: [1, 2, 1] }],
      13,
      {
        initializers: [i64('s', [1]), i64('e', [5]), i64('a', [1]), i64('st', [2])],
      },
    )
    expect(countFlops({ model: slice1 }).outputShapes.y).toEqual([1, 4, 1])
    expect(countFlops({ model: slice10 }).outputShapes.y).toEqual([1, 2, 1])
  })

  it('reads weights from Constant nodes and follows Shape -> Gather -> Concat -> Reshape', () => {
    const fixed = buildModel({
      inputs: [{ name: 'x', elemType: F, shape: [2, 3, 4] }],
      outputs: [{ name: 'y', elemType: F, shape: [2, 5] }],
      initializers: [i64('zero', [0], []), i64('minus1', [-1], [1]), i64('zeroAxes', [0], [1])],
      nodes: [
        { op: 'Constant', inputs: [], outputs: ['W'], attrs: { value: { t: f32('w', [12, 5]) } } },
        { op: 'Shape', inputs: ['x'], outputs: ['s'] },
        { op: 'Gather', inputs: ['s', 'zero'], outputs: ['b'], attrs: { axis: { i: 0 } } },
        { op: 'Unsqueeze', inputs: ['b', 'zeroAxes'], outputs: ['b1'] },
        { op: 'Concat', inputs: ['b1', 'minus1'], outputs: ['target'], attrs: { axis: { i: 0 } } },
        { op: 'Reshape', inputs: ['x', 'target'], outputs: ['flat'] },
        { op: 'MatMul', inputs: ['flat', 'W'], outputs: ['y'] },
      ],
    })
    const r = countFlops({ model: fixed })
    expect(r.outputShapes.y).toEqual([2, 5])
    expect(r.macs).toBe(2 * 12 * 5)
    expect(r.params).toBe(60 + 3)
  })

  it('If: the known branch, or the larger one when the condition is unknown', () => {
    const branch = (n: number): GraphSpec => ({
      inputs: [],
      outputs: [{ name: `o${n}`, elemType: F, shape: [1, 4] }],
      initializers: [f32(`w${n}`, [4, 4])],
      nodes: Array.from({ length: n }, (_, i) => ({
        op: 'MatMul',
        inputs: [i === 0 ? 'x' : `h${n}_${i - 1}`, `w${n}`],
        outputs: [i === n - 1 ? `o${n}` : `h${n}_${i}`],
      })),
    })
    const m = buildModel({
      inputs: [
        { name: 'x', elemType: F, shape: [1, 4] },
        { name: 'c', elemType: ElemType.bool, shape: [] },
      ],
      outputs: [{ name: 'y', elemType: F, shape: [1, 4] }],
      nodes: [
        {
          op: 'If',
          inputs: ['c'],
          outputs: ['y'],
          attrs: { then_branch: { g: branch(1) }, else_branch: { g: branch(3) } },
        },
      ],
    })
    expect(countFlops({ model: m }).macs).toBe(3 * 16)
    expect(countFlops({ model: m, inputs: { c: { shape: [], values: [1] } } }).macs).toBe(16)
    expect(countFlops({ model: m, inputs: { c: { shape: [], values: [0] } } }).macs).toBe(3 * 16)
  })

  it('Loop with a static trip count and Scan multiply their body', () => {
    const body: GraphSpec = {
      inputs: [
        { name: 'i', elemType: I64, shape: [] },
        { name: 'cond', elemType: ElemType.bool, shape: [] },
        { name: 'h', elemType: F, shape: [1, 8] },
      ],
      outputs: [
        { name: 'cond_out', elemType: ElemType.bool, shape: [] },
        { name: 'h_out', elemType: F, shape: [1, 8] },
        { name: 'scan_out', elemType: F, shape: [1, 8] },
      ],
      initializers: [f32('w', [8, 8])],
      nodes: [
        { op: 'Identity', inputs: ['cond'], outputs: ['cond_out'] },
        { op: 'MatMul', inputs: ['h', 'w'], outputs: ['h_out'] },
        { op: 'Relu', inputs: ['h_out'], outputs: ['scan_out'] },
      ],
    }
    const loop = buildModel({
      inputs: [{ name: 'h0', elemType: F, shape: [1, 8] }],
      outputs: [
        { name: 'h', elemType: F, shape: [1, 8] },
        { name: 'all', elemType: F, shape: [5, 1, 8] },
      ],
      initializers: [i64('M', [5], []), { name: 'T', elemType: ElemType.bool, dims: [], data: new Uint8Array([1]) }],
      nodes: [{ op: 'Loop', inputs: ['M', 'T', 'h0'], outputs: ['h', 'all'], attrs: { body: { g: body } } }],
    })
    const r = countFlops({ model: loop })
    expect(r.macs).toBe(5 * 64)
    expect(r.outputShapes.all).toEqual([5, 1, 8])
    expect(r.byOp.Relu.flops).toBe(5 * 8)
    const noTrip = buildModel({
      inputs: [
        { name: 'h0', elemType: F, shape: [1, 8] },
        { name: 'M', elemType: I64, shape: [] },
      ],
      outputs: [
        { name: 'h', elemType: F, shape: [1, 8] },
        { name: 'all', elemType: F, shape: ['n', 1, 8] },
      ],
      initializers: [{ name: 'T', elemType: ElemType.bool, dims: [], data: new Uint8Array([1]) }],
      nodes: [
        { op: 'Loop', inputs: ['M', 'T', 'h0'], outputs: ['h', 'all'], attrs: { body: { g: body } }, name: 'loop' },
      ],
    })
    expect(() => countFlops({ model: noTrip })).toThrow(
      'cannot count op Loop (node "loop"): the trip count is not known statically',
    )
    const scanBody: GraphSpec = {
      inputs: [
        { name: 's', elemType: F, shape: [4] },
        { name: 'xi', elemType: F, shape: [4] },
      ],
      outputs: [
        { name: 's2', elemType: F, shape: [4] },
        { name: 'y', elemType: F, shape: [4] },
      ],
      nodes: [
        { op: 'Add', inputs: ['s', 'xi'], outputs: ['s2'] },
        { op: 'Identity', inputs: ['s2'], outputs: ['y'] },
      ],
    }
    const scan = buildModel({
      inputs: [
        { name: 's0', elemType: F, shape: [4] },
        { name: 'xs', elemType: F, shape: [7, 4] },
      ],
      outputs: [
        { name: 'sN', elemType: F, shape: [4] },
        { name: 'ys', elemType: F, shape: [7, 4] },
      ],
      nodes: [
        {
          op: 'Scan',
          inputs: ['s0', 'xs'],
          outputs: ['sN', 'ys'],
          attrs: { body: { g: scanBody }, num_scan_inputs: { i: 1 } },
        },
      ],
    })
    const sr = countFlops({ model: scan })
    expect(sr.flops).toBe(7 * 4)
    expect(sr.outputShapes.ys).toEqual([7, 4])
  })

  it('conv, pooling, reduction and elementwise rules', () => {
    const m = buildModel({
      inputs: [{ name: 'x', elemType: F, shape: [1, 4, 8, 8] }],
      outputs: [{ name: 'y', elemType: F, shape: [1, 8, 2, 2] }],
      initializers: [f32('w', [8, 2, 3, 3]), f32('b', [8])],
      nodes: [
        {
          op: 'Conv',
          inputs: ['x', 'w', 'b'],
          outputs: ['c'],
          attrs: { group: { i: 2 }, pads: { ints: [1, 1, 1, 1] } },
        },
        { op: 'Relu', inputs: ['c'], outputs: ['r'] },
        {
          op: 'MaxPool',
          inputs: ['r'],
          outputs: ['y'],
          attrs: { kernel_shape: { ints: [4, 4] }, strides: { ints: [4, 4] } },
        },
      ],
    })
    const r = countFlops({ model: m })
    const convOut = 8 * 8 * 8
    expect(r.byOp.Conv.macs).toBe(convOut * 2 * 9)
    expect(r.byOp.Conv.flops).toBe(2 * convOut * 2 * 9 + convOut)
    expect(r.byOp.Relu.flops).toBe(convOut)
    expect(r.byOp.MaxPool.flops).toBe(8 * 2 * 2 * 16)
    expect(r.macs).toBe(r.byOp.Conv.macs)
  })
})

describe('nondeterministic ops', () => {
  it('finds random ops, in subgraphs too', async () => {
    const { findNondeterministicOps } = await import('../../src/inference/flops.ts')
    const m = buildModel({
      inputs: [{ name: 'x', elemType: F, shape: [2] }],
      outputs: [{ name: 'y', elemType: F, shape: [2] }],
      nodes: [{ op: 'RandomUniformLike', inputs: ['x'], outputs: ['y'], name: 'noise' }],
    })
    expect(findNondeterministicOps(m)).toEqual(['RandomUniformLike (noise)'])
    expect(findNondeterministicOps(buildIrisModel())).toEqual([])
  })
})

describe('attention', () => {
  it('ONNX Attention (4-D): 2 MACs per Q.K and P.V product', () => {
    const m = buildModel({
      opset: 23,
      irVersion: 10,
      inputs: [
        { name: 'q', elemType: F, shape: [2, 4, 8, 16] },
        { name: 'k', elemType: F, shape: [2, 4, 10, 16] },
        { name: 'v', elemType: F, shape: [2, 4, 10, 32] },
      ],
      outputs: [{ name: 'y', elemType: F, shape: [2, 4, 8, 32] }],
      nodes: [{ op: 'Attention', inputs: ['q', 'k', 'v'], outputs: ['y'] }],
    })
    const r = countFlops({ model: m })
    expect(r.macs).toBe(2 * 4 * 8 * 10 * (16 + 32))
    expect(r.outputShapes.y).toEqual([2, 4, 8, 32])
  })
})
