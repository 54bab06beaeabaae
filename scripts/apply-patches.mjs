#!/usr/bin/env node
// Applies the unified diffs in patches/ to installed packages (run from `postinstall`; idempotent).
// Each hunk is matched by its text, not its line numbers: the removed and context lines must appear once in the
// file, and are replaced by the hunk's new text. A hunk whose new text is already there counts as applied; a hunk
// that matches neither way fails the install, so a dependency bump cannot silently drop a patch.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Split a unified diff into files and hunks (old text, new text); a hunk's length comes from its @@ header. */
export function parsePatch(text) {
  const files = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]
    if (line.startsWith('+++ ')) {
      files.push({ path: line.slice(4).replace(/^b\//, '').trim(), hunks: [] })
      continue
    }
    const m = /^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@/.exec(line)
    if (!m) continue
    const file = files.at(-1)
    if (!file) throw new Error('a hunk before any +++ line')
    let oldLeft = m[1] === undefined ? 1 : Number(m[1])
    let newLeft = m[2] === undefined ? 1 : Number(m[2])
    const hunk = { old: [], new: [] }
    while (oldLeft > 0 || newLeft > 0) {
      const l = lines[++i]
      if (l === undefined) throw new Error(`${file.path}: a hunk ends early`)
      if (l.startsWith('\\')) continue // "\ No newline at end of file"
      const body = l.slice(1)
      if (l.startsWith('-')) {
        hunk.old.push(body)
        oldLeft--
      } else if (l.startsWith('+')) {
        hunk.new.push(body)
        newLeft--
      } else {
        // context (an empty line is a context line whose leading space was trimmed)
        hunk.old.push(body)
        hunk.new.push(body)
        oldLeft--
        newLeft--
      }
    }
    file.hunks.push({ old: hunk.old.join('\n'), new: hunk.new.join('\n') })
  }
  return files
}

const count = (s, sub) => s.split(sub).length - 1

/** Apply one hunk to a file's text: the new text, and whether it changed. Throws when it matches neither way. */
export function applyHunk(text, hunk, where) {
  if (count(text, hunk.old) === 1) return { text: text.replace(hunk.old, () => hunk.new), changed: true }
  if (count(text, hunk.new) === 1) return { text, changed: false }
  throw new Error(`${where}: the hunk matches neither the original nor the patched text (version changed?)`)
}

/** A patched file under `root`, or in a node_modules above it when npm hoisted the package (an installed lattice). */
function locate(root, path) {
  for (let dir = root; ; dir = dirname(dir)) {
    if (existsSync(join(dir, path))) return join(dir, path)
    if (dirname(dir) === dir) return join(root, path)
  }
}

/** Apply every patch in `dir` under `root`; returns the files changed (with `dryRun`, those that would change). */
export function applyPatches(root, dir, { dryRun = false } = {}) {
  const changed = []
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.patch')).sort()) {
    for (const file of parsePatch(readFileSync(join(dir, name), 'utf8'))) {
      const path = locate(root, file.path)
      let text = readFileSync(path, 'utf8')
      let dirty = false
      for (const [i, hunk] of file.hunks.entries()) {
        const r = applyHunk(text, hunk, `${name} ${file.path} hunk ${i + 1}`)
        text = r.text
        dirty ||= r.changed
      }
      if (dirty) {
        if (!dryRun) writeFileSync(path, text)
        changed.push(file.path)
      }
    }
  }
  return changed
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..')
  const changed = applyPatches(root, join(root, 'patches'))
  console.log(`apply-patches: ${changed.length} file(s) patched${changed.length ? `: ${changed.join(', ')}` : ''}`)
}
