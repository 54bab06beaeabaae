// Bring an ONNX model and its tokenizer/config files from the HuggingFace Hub (through @huggingface/hub), a local
// snapshot directory or the HF cache layout (models--org--name/snapshots/<rev>/) into a flat package directory.
import { createHash } from 'node:crypto'
import { createWriteStream, existsSync, readFileSync, statSync } from 'node:fs'
import { copyFile, readdir } from 'node:fs/promises'
import { homedir } from 'node:os'
import { basename, join, posix } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { ModelImportError } from './errors.ts'

/** Options of {@link fetchHfModel}. */
export interface HfImportOpts {
  /** `org/name`, a snapshot directory, or a `models--org--name` cache directory. */
  source: string
  /** Branch, tag or commit (default `main`). */
  revision?: string
  /** The ONNX file inside the repo, e.g. `onnx/model_fp16.onnx` (default: onnx/model.onnx, then model.onnx). */
  file?: string
  /** Pick the quantized variant: true for `model_quantized.onnx`, or a suffix such as `int8` (`model_int8.onnx`). */
  quantized?: boolean | string
  /** Hub URL (default $HF_ENDPOINT or https://huggingface.co). */
  hubUrl?: string
  /** Access token (default $HF_TOKEN). */
  token?: string
  /** An HF cache directory to look in for `org/name` before the network (default: none). */
  cacheDir?: string
  /** Where the package files are written (flat). */
  dest: string
  onProgress?: (e: { file: string; done: number; total: number }) => void
  signal?: AbortSignal
}

/** What {@link fetchHfModel} produced. */
export interface HfImportResult {
  /** Package files in `dest`. */
  files: { name: string; path: string }[]
  /** The ONNX file's path in the repo. */
  modelPath: string
  /** `hub`, `snapshot` or `cache`. */
  origin: 'hub' | 'snapshot' | 'cache'
  /** `org/name` when known. */
  repo?: string
  /** The resolved revision (a commit sha when the Hub or cache says so). */
  revision: string
}

const COMPANIONS = [
  'config.json',
  'generation_config.json',
  'preprocessor_config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'added_tokens.json',
  'vocab.json',
  'vocab.txt',
  'merges.txt',
  'spiece.model',
  'sentencepiece.bpe.model',
]

const EXPORT_HINT =
  'Export one with `optimum-cli export onnx --model REPO out/` (pip install optimum[exporters]) and import the out/ directory, or pass --file with the ONNX file'

/** Split `org/name@rev`. */
export function parseRepoRef(ref: string): { repo: string; revision?: string } {
  const at = ref.lastIndexOf('@')
  return at > 0 ? { repo: ref.slice(0, at), revision: ref.slice(at + 1) } : { repo: ref }
}

/** Choose the ONNX file among a repo's paths; errors say what exists and how to get one. */
export function pickOnnxFile(
  paths: string[],
  opts: { file?: string; quantized?: boolean | string; where: string },
): string {
  if (opts.file) {
    if (!paths.includes(opts.file)) {
      const onnx = paths.filter((p) => p.endsWith('.onnx'))
      throw new ModelImportError(
        `${opts.where} has no file "${opts.file}".${onnx.length ? ` Its ONNX files: ${onnx.join(', ')}.` : ''} Pass --file with one of the repo's paths.`,
      )
    }
    return opts.file
  }
  const stem = opts.quantized === true ? 'model_quantized' : opts.quantized ? `model_${opts.quantized}` : 'model'
  for (const c of [`onnx/${stem}.onnx`, `${stem}.onnx`]) if (paths.includes(c)) return c
  const onnx = paths.filter((p) => p.endsWith('.onnx'))
  if (onnx.length === 1 && !opts.quantized) return onnx[0]
  if (onnx.length === 0) throw new ModelImportError(`${opts.where} has no ONNX weights. ${EXPORT_HINT}.`)
  throw new ModelImportError(
    `${opts.where} has no ${stem}.onnx; its ONNX files are ${onnx.join(', ')}. Pass --file with the one to import${opts.quantized ? '' : ', or --quantized for model_quantized.onnx'}.`,
  )
}

/** External-data file names (relative to the model) its initializers point at. */
async function externalData(modelFile: string): Promise<string[]> {
  const { decodeModel } = await import('../inference/proto.ts')
  const out = new Set<string>()
  try {
    const m = decodeModel(readFileSync(modelFile))
    for (const t of m.graph?.initializer ?? [])
      for (const kv of t.externalData ?? []) if (kv.key === 'location' && kv.value) out.add(kv.value)
  } catch (err) {
    throw new ModelImportError(
      `${basename(modelFile)} is not a readable ONNX model (${(err as Error).message}). ${EXPORT_HINT}.`,
    )
  }
  return [...out]
}

/** Package files to take from a repo: the model, its external data, the companions at the root or beside it. */
function wanted(modelPath: string, paths: string[], external: string[]): string[] {
  const dir = posix.dirname(modelPath)
  const out = [modelPath]
  for (const e of external) out.push(dir === '.' ? e : `${dir}/${e}`)
  for (const c of COMPANIONS) {
    const beside = dir === '.' ? c : `${dir}/${c}`
    if (paths.includes(beside)) out.push(beside)
    else if (paths.includes(c)) out.push(c)
  }
  return [...new Set(out)]
}

/** Fetch the model and its companions into `opts.dest`. Throws ModelImportError with a way out. */
export async function fetchHfModel(opts: HfImportOpts): Promise<HfImportResult> {
  if (existsSync(opts.source)) return fromLocal(opts.source, opts, undefined)
  const { repo, revision: refRev } = parseRepoRef(opts.source)
  if (!/^[\w.-]+\/[\w.-]+$/.test(repo)) {
    throw new ModelImportError(
      `"${opts.source}" is neither a directory nor a Hub repo id. Pass org/name[@revision], a snapshot directory or a models--org--name cache directory.`,
    )
  }
  const revision = opts.revision ?? refRev
  if (opts.cacheDir) {
    const cached = join(opts.cacheDir, `models--${repo.replace('/', '--')}`)
    if (existsSync(cached)) return fromLocal(cached, { ...opts, revision }, repo)
  }
  return fromHub(repo, revision ?? 'main', opts)
}

async function fromLocal(path: string, opts: HfImportOpts, repo: string | undefined): Promise<HfImportResult> {
  let dir = path
  let origin: HfImportResult['origin'] = 'snapshot'
  let revision = opts.revision ?? 'local'
  const isDir = statSync(path).isDirectory()
  if (!isDir)
    throw new ModelImportError(
      `${path} is a file; pass its directory, or use \`lattice model deploy --model ${path}\`.`,
    )
  if (existsSync(join(path, 'snapshots'))) {
    // HF cache layout: refs/<name> holds the commit sha of a branch or tag
    origin = 'cache'
    repo ??= basename(path)
      .replace(/^models--/, '')
      .replace('--', '/')
    const want = opts.revision ?? 'main'
    const ref = join(path, 'refs', want)
    const snapshots = await readdir(join(path, 'snapshots'))
    const sha = existsSync(ref) ? readFileSync(ref, 'utf8').trim() : snapshots.includes(want) ? want : undefined
    const pick = sha ?? (opts.revision === undefined && snapshots.length === 1 ? snapshots[0] : undefined)
    if (!pick || !snapshots.includes(pick)) {
      throw new ModelImportError(
        `The HF cache at ${path} has no snapshot for revision "${want}" (snapshots: ${snapshots.join(', ') || 'none'}). Pass @REV with one of them, or download it first.`,
      )
    }
    dir = join(path, 'snapshots', pick)
    revision = pick
  }
  const paths = await listTree(dir)
  const where = repo ? `${repo} (${origin} ${dir})` : dir
  const modelPath = pickOnnxFile(paths, { file: opts.file, quantized: opts.quantized, where })
  const external = await externalData(join(dir, modelPath))
  const take = wanted(modelPath, paths, external)
  const files: HfImportResult['files'] = []
  for (const p of take) {
    const src = join(dir, p)
    if (!existsSync(src))
      throw new ModelImportError(
        `${where} is missing ${p}, which ${modelPath} needs. Download the whole snapshot again.`,
      )
    const dest = join(opts.dest, basename(p))
    await copyFile(src, dest) // follows the cache's symlinks into blobs/
    files.push({ name: basename(p), path: dest })
  }
  return { files, modelPath, origin, repo, revision }
}

async function listTree(root: string, prefix = ''): Promise<string[]> {
  const out: string[] = []
  for (const e of await readdir(join(root, prefix), { withFileTypes: true })) {
    if (e.name.startsWith('.')) continue
    const rel = prefix ? `${prefix}/${e.name}` : e.name
    if (e.isDirectory()) out.push(...(await listTree(root, rel)))
    else out.push(rel)
  }
  return out
}

async function fromHub(repo: string, revision: string, opts: HfImportOpts): Promise<HfImportResult> {
  const hub = await import('@huggingface/hub')
  const hubUrl = (opts.hubUrl ?? process.env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/+$/, '')
  const accessToken = opts.token ?? process.env.HF_TOKEN ?? undefined
  const creds = accessToken ? { accessToken } : {}
  const hubError = (err: unknown, what: string): ModelImportError => {
    const status = (err as { statusCode?: number }).statusCode
    if (status === 404)
      return new ModelImportError(
        `${what} was not found on ${hubUrl} (404). Check the repo id and revision${accessToken ? '' : ', and set HF_TOKEN for a private or gated repo'}.`,
      )
    if (status === 401 || status === 403)
      return new ModelImportError(
        `${hubUrl} refused access to ${what} (${status}). Set HF_TOKEN to a token that can read it (and accept the model's terms on the Hub).`,
      )
    const msg = (err as Error).message ?? String(err)
    return new ModelImportError(
      `Cannot fetch ${what} from ${hubUrl}: ${msg.split('. URL:')[0]}. Check your network, or HF_ENDPOINT for a mirror.`,
    )
  }
  let sha: string | undefined
  try {
    const info = await hub.modelInfo({ name: repo, revision, hubUrl, ...creds, additionalFields: ['sha'] })
    sha = (info as { sha?: string }).sha
  } catch (err) {
    throw hubError(err, `model ${repo}${revision === 'main' ? '' : `@${revision}`}`)
  }
  const rev = sha ?? revision
  const listing = new Map<string, { size: number; sha256?: string }>()
  try {
    for await (const f of hub.listFiles({ repo, revision: rev, recursive: true, hubUrl, ...creds })) {
      if (f.type === 'file') listing.set(f.path, { size: f.size, sha256: f.lfs?.oid })
    }
  } catch (err) {
    throw hubError(err, `the file list of ${repo}@${rev}`)
  }
  const paths = [...listing.keys()]
  const where = `${repo}@${revision}`
  const modelPath = pickOnnxFile(paths, { file: opts.file, quantized: opts.quantized, where })

  const files: HfImportResult['files'] = []
  const download = async (p: string): Promise<void> => {
    const meta = listing.get(p)
    if (!meta) throw new ModelImportError(`${where} has no ${p}, which ${modelPath} needs. The repo is incomplete.`)
    let blob: Blob | null
    try {
      blob = await hub.downloadFile({ repo, path: p, revision: rev, hubUrl, ...creds, xet: false })
    } catch (err) {
      throw hubError(err, `${p} in ${repo}@${rev}`)
    }
    if (!blob) throw new ModelImportError(`${where} has no ${p} (404 on download). The repo changed; try again.`)
    const dest = join(opts.dest, basename(p))
    const hash = createHash('sha256')
    let done = 0
    const counted = async function* () {
      const reader = (blob as Blob).stream().getReader()
      for (;;) {
        const { done: end, value } = await reader.read()
        if (end) break
        hash.update(value)
        done += value.byteLength
        opts.onProgress?.({ file: p, done, total: meta.size })
        yield value
      }
    }
    try {
      await pipeline(Readable.from(counted()), createWriteStream(dest), { signal: opts.signal })
    } catch (err) {
      throw new ModelImportError(
        `The download of ${p} from ${hubUrl} broke off after ${done} of ${meta.size} bytes (${(err as Error).message}). Run the import again.`,
      )
    }
    if (done !== meta.size)
      throw new ModelImportError(
        `The download of ${p} from ${hubUrl} was truncated: ${done} of ${meta.size} bytes. Run the import again.`,
      )
    const got = hash.digest('hex')
    if (meta.sha256 && got !== meta.sha256)
      throw new ModelImportError(
        `The download of ${p} does not match the Hub's sha256 (${meta.sha256}, got ${got}). Run the import again.`,
      )
    files.push({ name: basename(p), path: dest })
  }
  await download(modelPath)
  const external = await externalData(join(opts.dest, basename(modelPath)))
  for (const p of wanted(modelPath, paths, external).slice(1)) await download(p)
  return { files, modelPath, origin: 'hub', repo, revision: rev }
}

/** The default HF cache (`$HF_HUB_CACHE`, `$HF_HOME/hub`, or ~/.cache/huggingface/hub). */
export function defaultHfCache(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE
  if (env.HF_HOME) return join(env.HF_HOME, 'hub')
  return join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'huggingface', 'hub')
}
