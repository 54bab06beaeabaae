// Start-up check of a WebAssembly profile: the installed onnxruntime-web must be the pinned version and its
// `.wasm` and glue files must have the pinned sha256. A node that fails it refuses to start; two installs that
// pass it run the same bytes.
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { RuntimeMismatchError } from './errors.ts'
import type { InferenceProfile, WasmRuntimePin } from './profile.ts'

/** Where a pinned runtime's files are on this install, and what was found there. */
export interface WasmRuntimeFiles {
  wasmPath: string
  gluePath: string
  /** Version in the installed package.json. */
  version: string
  sha256: string
  glueSha256: string
}

const require = createRequire(import.meta.url)
const checked = new Map<string, WasmRuntimeFiles>()

function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex')
}

/** Locate and hash the installed files of `pin` (cached per process). */
export function wasmRuntimeFiles(pin: WasmRuntimePin): WasmRuntimeFiles {
  const key = `${pin.package}/${pin.file}`
  const hit = checked.get(key)
  if (hit) return hit
  let wasmPath: string
  try {
    wasmPath = require.resolve(`${pin.package}/${pin.file}`)
  } catch {
    throw new RuntimeMismatchError(`${pin.package}@${pin.version}`, `${pin.package} is not installed`)
  }
  const dist = dirname(wasmPath)
  const gluePath = join(dist, pin.glue)
  const pkg = JSON.parse(readFileSync(join(dist, '..', 'package.json'), 'utf8')) as { version: string }
  const files = {
    wasmPath,
    gluePath,
    version: pkg.version,
    sha256: sha256File(wasmPath),
    glueSha256: sha256File(gluePath),
  }
  checked.set(key, files)
  return files
}

/**
 * Refuse to run `profile` unless the installed runtime is exactly the pinned one. A native profile passes
 * (onnx.ts checks onnxruntime-node's version when it creates a session).
 */
export function checkRuntime(profile: InferenceProfile): WasmRuntimeFiles | undefined {
  const pin = profile.wasm
  if (profile.runtime !== 'wasm' || !pin) return undefined
  const f = wasmRuntimeFiles(pin)
  if (f.version !== pin.version) {
    throw new RuntimeMismatchError(
      profile.id,
      `${pin.package} ${f.version} is installed, the profile pins ${pin.version}`,
    )
  }
  if (f.sha256 !== pin.sha256) {
    throw new RuntimeMismatchError(profile.id, `${f.wasmPath} has sha256 ${f.sha256}, the profile pins ${pin.sha256}`)
  }
  if (f.glueSha256 !== pin.glueSha256) {
    throw new RuntimeMismatchError(
      profile.id,
      `${f.gluePath} has sha256 ${f.glueSha256}, the profile pins ${pin.glueSha256}`,
    )
  }
  return f
}
