// scripts/apply-patches.mjs: hunks matched by text, idempotent, loud when a dependency moved under a patch; and
// every patch in patches/ is in node_modules (postinstall ran).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { applyPatches, parsePatch } from '../../scripts/apply-patches.mjs'

const ROOT = join(import.meta.dirname, '..', '..')
const tmp = mkdtempSync(join(tmpdir(), 'lattice-apply-patches-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

const PATCH = `--- a/node_modules/pkg/index.js
+++ b/node_modules/pkg/index.js
@@ -1,4 +1,5 @@
 function f(x) {
-  return g(x)
+  // cheaper
+  return h(x)
 }
 
`

function fixture(name: string, text: string): string {
  const root = join(tmp, name)
  mkdirSync(join(root, 'node_modules', 'pkg'), { recursive: true })
  mkdirSync(join(root, 'patches'))
  writeFileSync(join(root, 'patches', 'pkg.patch'), PATCH)
  writeFileSync(join(root, 'node_modules', 'pkg', 'index.js'), text)
  return root
}

describe('apply-patches', () => {
  it('applies a hunk by its text, once', () => {
    const root = fixture('a', '// header\nfunction f(x) {\n  return g(x)\n}\n\nexport { f }\n')
    expect(applyPatches(root, join(root, 'patches'))).toEqual(['node_modules/pkg/index.js'])
    const patched = readFileSync(join(root, 'node_modules', 'pkg', 'index.js'), 'utf8')
    expect(patched).toBe('// header\nfunction f(x) {\n  // cheaper\n  return h(x)\n}\n\nexport { f }\n')
    expect(applyPatches(root, join(root, 'patches'))).toEqual([])
    expect(readFileSync(join(root, 'node_modules', 'pkg', 'index.js'), 'utf8')).toBe(patched)
  })

  it('reads hunk lengths from the @@ header, so a changed line may itself start with --- or +++', () => {
    const patch = parsePatch(
      '--- a/x.js\n+++ b/x.js\n@@ -1,2 +1,2 @@\n a\n---b\n+++c\n--- a/y.js\n+++ b/y.js\n@@ -1 +1 @@\n-d\n+e\n',
    )
    expect(patch).toEqual([
      { path: 'x.js', hunks: [{ old: 'a\n--b', new: 'a\n++c' }] },
      { path: 'y.js', hunks: [{ old: 'd', new: 'e' }] },
    ])
  })

  it('fails when the file matches neither the original nor the patched text', () => {
    const root = fixture('b', 'function f(x) {\n  return g(x, 1)\n}\n')
    expect(() => applyPatches(root, join(root, 'patches'))).toThrow(/matches neither/)
  })

  it('every patch in patches/ is applied in node_modules', () => {
    expect(applyPatches(ROOT, join(ROOT, 'patches'), { dryRun: true })).toEqual([])
  })
})
