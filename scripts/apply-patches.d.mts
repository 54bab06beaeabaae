// Types of scripts/apply-patches.mjs (plain JavaScript: it runs from postinstall, before any TypeScript tooling).
export interface Hunk {
  old: string
  new: string
}
export interface PatchFile {
  path: string
  hunks: Hunk[]
}
export function parsePatch(text: string): PatchFile[]
export function applyHunk(text: string, hunk: Hunk, where: string): { text: string; changed: boolean }
export function applyPatches(root: string, dir: string, opts?: { dryRun?: boolean }): string[]
