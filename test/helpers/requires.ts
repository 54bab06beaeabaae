// Tests that need something outside the repository (a Debian package, ../shared) call `requires(...)`.
// Missing: the test is skipped with one line saying what to install. In CI (`LATTICE_REQUIRE_DEPS=1`, set by
// .ci/run, which installs everything) a missing dependency fails the run instead of skipping quietly.
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe } from 'vitest'

/** Something a test needs that `npm ci` does not install. */
export interface Dependency {
  /** What it is, e.g. `ipfs_cid (Debian package ipfs-cid)`. */
  what: string
  /** Whether it is here. */
  present: () => boolean
  /** The one line that tells a developer how to get it. */
  install: string
}

/** A command on PATH. */
export function command(cmd: string, debianPackage: string): Dependency {
  return {
    what: `${cmd} (Debian package ${debianPackage})`,
    present: () => {
      try {
        execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' })
        return true
      } catch {
        return false
      }
    },
    install: `apt-get install ${debianPackage}`,
  }
}

/** A file or directory, e.g. from a Debian package or ../shared. */
export function path(p: string, what: string, install: string): Dependency {
  return { what, present: () => existsSync(p), install }
}

/** The execution-apis suite beside the repository (../shared/conformance, laid out by the workplace). */
export const CONFORMANCE_SUITE: Dependency = path(
  join(fileURLToPath(new URL('../../', import.meta.url)), '../shared/conformance/execution-apis/tests/chain.rlp'),
  'the execution-apis conformance suite (../shared/conformance/execution-apis)',
  'place the execution-apis tests at ../shared/conformance/execution-apis beside the repository',
)

/** ONNX's backend test models (Debian package libonnx-testdata). */
export const ONNX_TESTDATA: Dependency = path(
  '/usr/share/libonnx-testdata/data',
  'ONNX backend test data (Debian package libonnx-testdata)',
  'apt-get install libonnx-testdata',
)

const strict = process.env.LATTICE_REQUIRE_DEPS === '1'

/**
 * `describe` when every dependency is present; otherwise a skipped block (one line on stderr naming what to
 * install), or, under LATTICE_REQUIRE_DEPS=1, a failing one.
 */
export function describeWith(deps: Dependency[], name: string, fn: () => void): void {
  const missing = deps.filter((d) => !d.present())
  if (missing.length === 0) {
    describe(name, fn)
    return
  }
  const line = `missing ${missing.map((d) => d.what).join(', ')}: ${missing.map((d) => d.install).join('; ')}`
  if (strict) {
    describe(name, () => {
      throw new Error(`${line} (LATTICE_REQUIRE_DEPS=1: CI installs every dependency)`)
    })
    return
  }
  process.stderr.write(`[skip] ${name}: ${line}\n`)
  describe.skip(name, fn)
}
