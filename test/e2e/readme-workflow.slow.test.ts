// The README's "Model workflow" shell block, run as written (bash -e) against a devnet, from an empty directory
// that has only links to the repository's bin/, examples/, src/ and node_modules/ (no build/ yet).
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestDevnet } from '../helpers/devnet.ts'
import { startTestDevnet } from '../helpers/devnet.ts'
import { REPO_ROOT } from '../helpers/solc.ts'

/** The first ```sh block after "## Model workflow" in the README. */
function workflowBlock(): string {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8')
  const section = readme.slice(readme.indexOf('## Model workflow'))
  const m = /```sh\n([\s\S]*?)```/.exec(section)
  if (!m) throw new Error('no sh block in the README model workflow')
  return m[1]
}

/** bash without blocking the event loop (the devnet answering the CLI lives in this process). */
function bash(script: string, cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-e', '-o', 'pipefail', '-c', script], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d) => {
      out += d
    })
    child.stderr.on('data', (d) => {
      out += d
    })
    const timer = setTimeout(() => child.kill(), 280_000)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, out })
    })
  })
}

describe("the README's model workflow", () => {
  let devnet: TestDevnet
  let dir: string

  beforeAll(async () => {
    devnet = await startTestDevnet()
    dir = mkdtempSync(join(tmpdir(), 'lattice-readme-'))
    for (const name of ['bin', 'examples', 'src', 'node_modules', 'package.json', 'tsconfig.json']) {
      symlinkSync(join(REPO_ROOT, name), join(dir, name))
    }
  }, 120_000)
  afterAll(async () => {
    await devnet?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('runs as written: deploy prints a FLOPs figure, inference by call and by transaction', async () => {
    expect(existsSync(join(dir, 'build'))).toBe(false)
    const { code, out } = await bash(workflowBlock(), dir, { ...process.env, LATTICE_RPC_URL: devnet.url })
    expect(code, out).toBe(0)
    expect(existsSync(join(dir, 'build/models/iris.onnx'))).toBe(true)
    expect(out).toMatch(/^FLOPs:\s+\d+$/m)
    const id = /^Model id:\s+(0x[0-9a-f]{64})$/m.exec(out)?.[1]
    expect(id).toBeDefined()
    expect(out).toContain('My Iris')
    const result = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8'))
    expect(Object.keys(result.outputs ?? result)).toContain('probabilities')
    // the --tx --json document names a mined transaction
    expect(out).toMatch(/"(txHash|transactionHash)":\s*"0x[0-9a-f]{64}"/)
  }, 300_000)
})
