// After `npm run build` the `lattice` bin runs dist/ with plain node: the devnet must still deploy its examples
// (examples/ is TypeScript and is loaded through tsx). Builds into build/dist-test/, laid out like the package,
// so the repository's own dist/ (which bin/lattice.js would prefer) is never touched.
import { execFile, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { rpc } from '../helpers/devnet.ts'
import { REPO_ROOT } from '../helpers/solc.ts'

const run = promisify(execFile)
const root = join(REPO_ROOT, 'build', 'dist-test')
const data = mkdtempSync(join(tmpdir(), 'lattice-build-'))
afterAll(() => {
  rmSync(root, { recursive: true, force: true })
  rmSync(data, { recursive: true, force: true })
})

describe('the compiled CLI (npm run build)', () => {
  it('starts a devnet that deploys the example models and contracts', { timeout: 600_000 }, async () => {
    rmSync(root, { recursive: true, force: true })
    mkdirSync(root, { recursive: true })
    for (const d of ['examples', 'contracts', 'genesis', 'node_modules', 'package.json']) {
      symlinkSync(join(REPO_ROOT, d), join(root, d))
    }
    await run(
      process.execPath,
      [join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', join(root, 'dist')],
      { cwd: REPO_ROOT, maxBuffer: 16 << 20 },
    ).catch((err) => {
      // type errors do not stop tsc from emitting; only a missing output matters here
      if (!String(err.stdout).includes('error TS')) throw err
    })
    const child = spawn(
      process.execPath,
      [join(root, 'dist/cli/main.js'), 'devnet', '--port', '0', '--datadir', join(data, 'dd')],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let out = ''
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`devnet did not come up in 300 s:\n${out}`)), 300_000)
        child.stderr.on('data', (c) => (out += String(c)))
        child.stdout.on('data', (c) => {
          out += String(c)
          const m = /Listening on (http:\/\/[^ \n]+)/.exec(out)
          if (m && /Example models \(deployed in \d+ ms\)/.test(out)) {
            clearTimeout(timer)
            resolve(m[1])
          }
        })
        child.once('exit', (code) => {
          clearTimeout(timer)
          reject(new Error(`devnet exited with ${code}:\n${out}`))
        })
      })
      expect(out).not.toMatch(/Unknown file extension/)
      const models = (await rpc(url, 'lattice_listModels', [])).result.models
      expect(models.map((m: { name: string }) => m.name)).toEqual(['iris', 'edges', 'bigram'])
    } finally {
      if (child.exitCode === null) {
        await new Promise<void>((r) => {
          child.once('exit', () => r())
          child.kill('SIGINT')
        })
      }
    }
  })
})
