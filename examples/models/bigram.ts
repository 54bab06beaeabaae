// Small text generator: a character bigram language model learnt (by counting) from a short built-in corpus.
// Graph: one-hot embedding (Gather) -> MatMul with the log-probability table -> ArgMax = most likely next char.
import { buildModel, ElemType } from '../../src/inference/builder.ts'

/** The vocabulary: space, a-z, full stop. */
export const VOCAB = ' abcdefghijklmnopqrstuvwxyz.'

/** Training text (written for this example; any lower-case English prose works). */
export const CORPUS = [
  'the chain runs the model inside the transaction and the validators agree on every bit of the result.',
  'a smart contract sends the input to the precompile and receives the output in the same block.',
  'there is no oracle and no trusted server. the model is stored on the network and its hash is in the registry.',
  'the gas of each inference is known before the work starts, so nobody can make the node run for free.',
  'when the inputs are the same the outputs are the same, on this machine and on the other machines as well.',
].join(' ')

/** Token ids of a string (characters outside the vocabulary map to space). */
export function encodeText(s: string): number[] {
  return [...s.toLowerCase()].map((c) => Math.max(0, VOCAB.indexOf(c)))
}

/** String of token ids. */
export function decodeText(ids: ArrayLike<number | bigint>): string {
  return Array.from(ids, (i) => VOCAB[Number(i)] ?? '?').join('')
}

/** log P(next | current) with add-one smoothing, [V, V] row-major. */
export function bigramTable(corpus = CORPUS): Float32Array {
  const v = VOCAB.length
  const counts = new Float64Array(v * v).fill(1)
  const ids = encodeText(corpus)
  for (let i = 0; i + 1 < ids.length; i++) counts[ids[i] * v + ids[i + 1]]++
  const out = new Float32Array(v * v)
  for (let r = 0; r < v; r++) {
    let total = 0
    for (let c = 0; c < v; c++) total += counts[r * v + c]
    for (let c = 0; c < v; c++) out[r * v + c] = Math.log(counts[r * v + c] / total)
  }
  return out
}

/** The model: tokens int64[1,T] -> logits float32[1,T,V] and next int64[1,T] (the most likely next token). */
export function buildBigramModel(): Uint8Array {
  const v = VOCAB.length
  const eye = new Float32Array(v * v)
  for (let i = 0; i < v; i++) eye[i * v + i] = 1
  return buildModel({
    name: 'char-bigram',
    docString: `Character bigram language model over ${JSON.stringify(VOCAB)}. Input: token ids; output: next-token log-probabilities and argmax.`,
    inputs: [{ name: 'tokens', elemType: ElemType.int64, shape: [1, 'T'] }],
    outputs: [
      { name: 'logits', elemType: ElemType.float32, shape: [1, 'T', v] },
      { name: 'next', elemType: ElemType.int64, shape: [1, 'T'] },
    ],
    initializers: [
      { name: 'embedding', elemType: ElemType.float32, dims: [v, v], data: eye },
      { name: 'bigram', elemType: ElemType.float32, dims: [v, v], data: bigramTable() },
    ],
    nodes: [
      { op: 'Gather', inputs: ['embedding', 'tokens'], outputs: ['emb'], attrs: { axis: { i: 0 } } },
      { op: 'MatMul', inputs: ['emb', 'bigram'], outputs: ['logits'] },
      { op: 'ArgMax', inputs: ['logits'], outputs: ['next'], attrs: { axis: { i: -1 }, keepdims: { i: 0 } } },
    ],
  })
}
