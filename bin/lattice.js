#!/usr/bin/env node
// Entry point: run the compiled CLI when `npm run build` produced it, else the TypeScript sources through tsx.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const dist = new URL('../dist/cli/main.js', import.meta.url)
if (existsSync(fileURLToPath(dist))) {
  await import(dist.href)
} else {
  const { register } = await import('tsx/esm/api')
  register()
  await import(new URL('../src/cli/main.ts', import.meta.url).href)
}
