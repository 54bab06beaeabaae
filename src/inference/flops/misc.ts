import type { Rule, RuleTable } from './common.ts'
import { FLOAT, fail, numel } from './common.ts'

const dynamicQuantizeLinearRule: Rule = ({ x, need }) => {
  need(0)
  return {
    outputs: [
      { dtype: 2, shape: x.shape },
      { dtype: FLOAT, shape: [] },
      { dtype: 2, shape: [] },
    ],
    flops: 2 * numel(x.shape),
  }
}

const stringNormalizerRule: Rule = ({ x, need }) => {
  need(0)
  return { outputs: [{ dtype: 8, shape: x.shape }], flops: numel(x.shape) }
}

const tfIdfVectorizerRule: Rule = ({ a, x, need }) => {
  need(0)
  const idx = a.ints('ngram_indexes') ?? []
  const width = idx.length ? Math.max(...idx) + 1 : 0
  const shape = x.shape.length === 2 ? [x.shape[0], width] : [width]
  return { outputs: [{ dtype: FLOAT, shape }], flops: numel(x.shape) * Math.max(1, a.int('max_gram_length', 1)) }
}

const randomNormalRule: Rule = ({ a }) => {
  const shape = a.ints('shape') ?? fail('no shape')
  return { outputs: [{ dtype: a.int('dtype', FLOAT), shape }], flops: numel(shape) }
}

export const RULES: RuleTable = {
  DynamicQuantizeLinear: dynamicQuantizeLinearRule,
  StringNormalizer: stringNormalizerRule,
  TfIdfVectorizer: tfIdfVectorizerRule,
  RandomNormal: randomNormalRule,
  RandomUniform: randomNormalRule,
}
