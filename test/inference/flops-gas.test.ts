import { describe, expect, it } from 'vitest'
import { exampleModels } from '../../examples/models/index.ts'
import { buildModel, ElemType } from '../../src/inference/builder.ts'
import { RULES } from '../../src/inference/flops/graph.ts'
import { MICRO_GAS } from '../../src/inference/flops/schedule.ts'
import {
  CURRENT_GAS_SCHEDULE,
  checkModelBounds,
  countFlops,
  createFlopCounter,
  GAS_SCHEDULES,
  type GasSchedule,
  MemoryBoundError,
  OP_FAMILIES,
  opFamily,
} from '../../src/inference/flops.ts'
import { familyModel, recipeModel } from '../helpers/gas-models.ts'

const f32 = ElemType.float32
const v1 = GAS_SCHEDULES['consensus-v1']
const v2 = GAS_SCHEDULES['consensus-v2']

/** y = op(x, consts…) over x[shape]. */
function oneOp(op: string, shape: number[], consts: { name: string; values: number[] }[] = []) {
  return buildModel({
    inputs: [{ name: 'x', elemType: f32, shape }],
    outputs: [{ name: 'y', elemType: f32, shape: [] }],
    initializers: consts.map((c) => ({
      name: c.name,
      elemType: c.name === 'scales' ? f32 : ElemType.int64,
      dims: [c.values.length],
      data: c.name === 'scales' ? new Float32Array(c.values) : new BigInt64Array(c.values.map(BigInt)),
    })),
    nodes: [{ op, inputs: ['x', ...consts.map((c) => c.name)], outputs: ['y'] }],
  })
}

describe('gas schedules', () => {
  it('every op the counter has a rule for belongs to a priced family', () => {
    for (const op of Object.keys(RULES)) expect(OP_FAMILIES).toContain(opFamily(op))
    expect(opFamily('MatMul')).toBe('mac')
    expect(opFamily('Conv')).toBe('conv')
    expect(opFamily('Exp')).toBe('transcendental')
    expect(opFamily('Softmax')).toBe('normalisation')
    expect(opFamily('ReduceSum')).toBe('reduction')
    expect(opFamily('Tile')).toBe('movement')
    expect(opFamily('Transpose')).toBe('permute')
    expect(opFamily('Reshape')).toBe('shape')
    expect(opFamily('Add')).toBe('elementwise')
  })

  it('schedules are keyed by consensus profile, and the current one is v2', () => {
    expect(Object.keys(GAS_SCHEDULES).sort()).toEqual(['consensus-v1', 'consensus-v2'])
    expect(CURRENT_GAS_SCHEDULE.id).toBe('consensus-v2')
    expect(v2.maxPeakBytes).toBe(256 * 1024 * 1024)
    expect(v2.maxNodes).toBe(50_000)
    expect(v1.maxNodes).toBe(Number.POSITIVE_INFINITY)
    expect(Object.isFrozen(v2)).toBe(true)
  })

  it('consensus-v1 is the old price: ceil(FLOPs / 2,500), data movement free', () => {
    for (const m of exampleModels().filter((e) => e.name !== 'silero-vad')) {
      const inputs = Object.fromEntries(m.sampleInput.map((t) => [t.name, t.shape]))
      const r = countFlops({ model: m.bytes, inputs, schedule: v1 })
      expect(r.gas, m.name).toBe(Math.ceil(r.flops / 2500))
    }
    const tile = oneOp('Tile', [16, 1024], [{ name: 'reps', values: [1024, 1] }])
    expect(countFlops({ model: tile, schedule: v1 }).gas).toBe(0)
  })

  it('consensus-v2 prices every data-movement op the old schedule gave away', () => {
    const x = [64, 64]
    const cases: [string, Uint8Array][] = [
      ['Tile', oneOp('Tile', x, [{ name: 'reps', values: [4, 4] }])],
      ['Expand', oneOp('Expand', [1, 64], [{ name: 'shape', values: [256, 64] }])],
      ['Transpose', oneOp('Transpose', x)],
      [
        'Slice',
        oneOp('Slice', x, [
          { name: 'starts', values: [0] },
          { name: 'ends', values: [32] },
        ]),
      ],
      [
        'Concat',
        buildModel({
          inputs: [{ name: 'x', elemType: f32, shape: x }],
          outputs: [{ name: 'y', elemType: f32, shape: [128, 64] }],
          nodes: [{ op: 'Concat', inputs: ['x', 'x'], outputs: ['y'], attrs: { axis: { i: 0 } } }],
        }),
      ],
      ['Pad', oneOp('Pad', x, [{ name: 'pads', values: [1, 1, 1, 1] }])],
      ['Reshape', oneOp('Reshape', x, [{ name: 'shape', values: [4096] }])],
      ['Resize', recipeModel('resize', { c: 1, h: 64, w: 64, scale: 2 })],
    ]
    const cos = buildModel({
      inputs: [{ name: 's', elemType: ElemType.int64, shape: [2] }],
      outputs: [{ name: 'y', elemType: f32, shape: [] }],
      nodes: [{ op: 'ConstantOfShape', inputs: ['s'], outputs: ['y'] }],
    })
    for (const [op, model] of cases) {
      const r = countFlops({ model })
      expect(r.byOp[op].gas, op).toBeGreaterThan(0)
      // v1 priced only FLOPs: nothing for a copy, one FLOP per output element for a nearest Resize
      const old = countFlops({ model, schedule: v1 }).byOp[op]
      expect(old.gas, op).toBe(old.flops / 2500)
      expect(r.byOp[op].gas, op).toBeGreaterThan(old.gas)
    }
    const r = countFlops({ model: cos, inputs: { s: { shape: [2], values: [256, 256] } } })
    expect(r.byOp.ConstantOfShape.gas).toBeGreaterThan(0)
  })

  it('graph gas is the rounded-up sum of node prices, and moving more bytes costs more', () => {
    const small = countFlops({ model: familyModel('transpose', { rows: 64, cols: 64, depth: 2 }) })
    const large = countFlops({ model: familyModel('transpose', { rows: 256, cols: 256, depth: 2 }) })
    expect(Number.isInteger(small.gas)).toBe(true)
    // 16x the elements: far more gas, counting (the same graph) aside
    expect(large.gas - large.countGas).toBeGreaterThan(10 * (small.gas - small.countGas))
    const byOp = Object.values(large.byOp).reduce((s, b) => s + b.gas, 0)
    expect(Math.abs(byOp - (large.gas - large.countGas))).toBeLessThanOrEqual(1)
  })

  it('ops priced apart from their family pay their percentage of its FLOP and byte prices', () => {
    // Add over the same bytes as Relu reads one more input, yet pays less: the runtime's binary kernels are
    // vectorised, its Relu is not
    const add = countFlops({ model: familyModel('add', { rows: 256, cols: 256, depth: 8 }) })
    const relu = countFlops({ model: familyModel('relu', { rows: 256, cols: 256, depth: 8 }) })
    expect(add.byOp.Add.gas).toBeLessThan(relu.byOp.Relu.gas)
    for (const op of ['Add', 'Sub', 'Mul', 'Div']) expect(v2.opPercent[op], op).toBeLessThan(100n)
    // a percentage scales the family's FLOP and byte prices, not the per-node cost
    const pct = v2.opPercent.Add
    const flops = 256 * 256
    const bytes = 3 * 4 * flops
    const family = BigInt(flops) * v2.perFlop.elementwise + BigInt(bytes) * v2.perByte.elementwise
    expect(add.byOp.Add.gas / 8).toBeCloseTo(Number(v2.perNode + (family * pct + 99n) / 100n) / Number(MICRO_GAS), 5)
    // an op type that is an Object member is refused like any op without a rule, not priced
    for (const op of ['constructor', 'toString', '__proto__']) {
      expect(() => countFlops({ model: oneOp(op, [4]) }), op).toThrow(/the FLOP counter has no rule for this op/)
    }
  })

  it('counting is priced: the static bound of node evaluations, part of every report, loop bodies 256 times', () => {
    const chain = (depth: number) => recipeModel('chain', { n: 16, depth, op: 1 })
    const r = countFlops({ model: chain(1000) })
    expect(BigInt(r.countGas)).toBe((1000n * v2.perCountedNode + MICRO_GAS - 1n) / MICRO_GAS)
    expect(r.gas).toBeGreaterThan(r.countGas)
    expect(createFlopCounter({ model: chain(1000) }).countGas).toBe(BigInt(r.countGas))
    // a Loop's body may be unrolled up to 256 times while counting: its nodes count 256 times in the bound
    const loop = recipeModel('loop', { n: 16, trips: 2 })
    // the Loop node, and its body's Identity and Add
    expect(createFlopCounter({ model: loop }).countGas).toBe(
      ((1n + 256n * 2n) * v2.perCountedNode + MICRO_GAS - 1n) / MICRO_GAS,
    )
    // consensus-v1 charged nothing for counting
    expect(countFlops({ model: chain(1000), schedule: v1 }).countGas).toBe(0)
  })

  it('a loop pays its body and an iteration cost on every iteration', () => {
    const gasOf = (trips: number) => countFlops({ model: recipeModel('loop', { n: 16, trips }) }).gas
    const per = Number(v2.perIteration + 2n * v2.perNode) / Number(MICRO_GAS)
    expect(gasOf(2000) - gasOf(1000)).toBeGreaterThanOrEqual(Math.floor(1000 * per))
  })
})

describe('static memory bound', () => {
  const relus = (n: number, depth: number) => recipeModel('chain', { n, depth, op: 1 })

  it('follows the live tensors: a chain holds two activations at a time, however long', () => {
    for (const depth of [2, 3, 10]) {
      const r = countFlops({ model: relus(1024, depth) })
      expect(r.peakBytes, `depth ${depth}`).toBe(2 * 4096)
    }
    // a tensor read again later stays live until then
    const concat = countFlops({ model: recipeModel('concat', { r: 16, c: 16, times: 3 }) })
    expect(concat.peakBytes).toBe(16 * 16 * 4 + 3 * 16 * 16 * 4)
  })

  it('refuses a call over the bound before any work, naming the node and the tensor', () => {
    const tight: GasSchedule = { ...v2, maxPeakBytes: 6000 }
    expect(() => countFlops({ model: relus(1024, 3), schedule: tight })).toThrow(MemoryBoundError)
    expect(() => countFlops({ model: relus(1024, 3), schedule: tight })).toThrow(
      'node "Relu_0" (Relu) needs 8.0 KiB of live tensors; its output "t1" is float32[1024], 4.0 KiB; the per-call limit is 5.9 KiB',
    )
    expect(() => countFlops({ model: recipeModel('expand', { n: 1e9 }) })).toThrow(/the per-call limit is 256 MiB/)
  })

  it('checkModelBounds: smallest admissible shapes, refusals by op, per-call bounds for integer inputs', () => {
    const dynamic = buildModel({
      inputs: [{ name: 'x', elemType: f32, shape: ['n', 1024] }],
      outputs: [{ name: 'y', elemType: f32, shape: ['n', 1024] }],
      nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
    })
    expect(checkModelBounds(dynamic)).toMatchObject({ shapes: { x: [1, 1024] }, peakBytes: 8192 })
    expect(() => checkModelBounds(recipeModel('resize', { c: 3, h: 64, w: 64, scale: 1000 }))).toThrow(
      /even at its smallest input shapes \(x=1x3x64x64\)/,
    )
    expect(() => checkModelBounds(recipeModel('rangeFromData'))).toThrow(/op Range \(node "Range_2"\)/)
    const range = checkModelBounds(recipeModel('range'))
    expect(range.peakBytes).toBeNull()
    expect(range.note).toMatch(/Range/)
  })
})
