// TEST-ONLY: LATTICE_TEST_EXECUTOR_LIE=scale|argmax makes `lattice executor` post outputs that are wrong by far
// more than any sane tolerance, so tests can check that the challenger overturns a lying executor and slashes it.
// `scale`: every float and fixed-point element becomes 2x + 1 (in value), every integer element +1.
// `argmax`: every row along the last axis is rotated by one (the largest element moves), every integer +1.
// Never set it on a real executor: its stake will be slashed. (Compare src/precompiles/test-perturb.ts.)

import { DType, fixedDecimals, type Tensor, tensorFromValues, tensorValues } from '../../inference/tensor.ts'
import { CliFlagError } from '../errors.ts'

/** The environment variable that turns the lie on (test-only). */
export const LIE_ENV = 'LATTICE_TEST_EXECUTOR_LIE'

/** The lie the switch asks for, or undefined when it is off (an unknown value is refused, not ignored). */
export function lieMode(env: NodeJS.ProcessEnv = process.env): 'scale' | 'argmax' | undefined {
  const v = env[LIE_ENV]
  if (v === undefined || v === '') return undefined
  if (v === 'scale' || v === 'argmax') return v
  throw new CliFlagError(`${LIE_ENV}=${v} is not a lie this test switch knows. Pass scale or argmax, or unset it.`)
}

/** `outputs` falsified as `mode` says. */
export function lieForTest(mode: 'scale' | 'argmax', outputs: readonly Tensor[]): Tensor[] {
  return outputs.map((t) => {
    const values = tensorValues(t)
    const decimals = fixedDecimals(t.dtype)
    const isFloat = t.dtype === DType.float32 || t.dtype === DType.float16
    const isInt = !isFloat && decimals === undefined
    let out: (number | bigint)[]
    if (isInt) {
      // +1 stays in range except at the type's maximum, where -1 is as wrong
      out = values.map((v) => bump(t.dtype, v))
    } else if (mode === 'scale') {
      const one = decimals === undefined ? 1 : 10n ** BigInt(decimals)
      out = values.map((v) => (typeof v === 'bigint' ? v * 2n + (one as bigint) : v * 2 + (one as number)))
    } else {
      const row = t.shape.at(-1) ?? 1
      out = values.map((_, i) => {
        const start = i - (i % row)
        return values[start + ((i - start + 1) % row)]
      })
    }
    return tensorFromValues(t.name, t.dtype, [...t.shape], out)
  })
}

const MAX: Record<number, bigint> = {
  [DType.uint8]: 255n,
  [DType.bool]: 1n,
  [DType.int8]: 127n,
  [DType.int16]: 32767n,
  [DType.int32]: 2147483647n,
  [DType.int64]: 9223372036854775807n,
}

function bump(dtype: number, v: number | bigint): number | bigint {
  const big = BigInt(v)
  const next = big >= (MAX[dtype] ?? 0n) ? big - 1n : big + 1n
  return typeof v === 'bigint' ? next : Number(next)
}
