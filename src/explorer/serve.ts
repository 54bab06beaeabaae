// Serves the explorer page (src/explorer/app: hand-written ES modules, served as they are) and the contract
// ABIs the page needs (contracts/abi, the build's output) under GET /explorer on the RPC port.
import { existsSync } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The URL path the page lives under. */
export const EXPLORER_PATH = '/explorer'

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  json: 'application/json',
  svg: 'image/svg+xml',
}

/** The page's files: next to this module in the sources; from the compiled dist/, in the source tree. */
function appDir(): string {
  const here = fileURLToPath(new URL('./app/', import.meta.url))
  return existsSync(here) ? here : fileURLToPath(new URL('../../src/explorer/app/', import.meta.url))
}

const ABI_DIR = fileURLToPath(new URL('../../contracts/abi/', import.meta.url))

/** ethers' browser build (an ES module in the npm package): the page's ABI coder, loaded when a view needs it. */
function ethersFile(): string {
  // the package exports no package.json: find its root from the main entry (<root>/lib.commonjs/index.js)
  const main = createRequire(import.meta.url).resolve('ethers')
  return join(dirname(dirname(main)), 'dist', 'ethers.min.js')
}

// one path segment of letters, digits, dots, dashes: nothing can climb out of the two folders
const FILE = /^[A-Za-z0-9-]+\.(html|js|css|json|svg)$/

/**
 * Answer a GET under /explorer: the page, its modules, or an ABI. Returns false for any other path (the caller
 * answers those).
 */
export async function serveExplorer(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  const path = new URL(req.url ?? '/', 'http://x').pathname
  if (path !== EXPLORER_PATH && !path.startsWith(`${EXPLORER_PATH}/`)) return false
  if (path === EXPLORER_PATH) {
    res.writeHead(301, { location: `${EXPLORER_PATH}/` }).end()
    return true
  }
  const rest = path.slice(EXPLORER_PATH.length + 1)
  let file: string | undefined
  if (rest === '') file = `${appDir()}index.html`
  else if (rest === 'vendor/ethers.js') file = ethersFile()
  else if (rest.startsWith('abi/') && FILE.test(rest.slice(4)) && rest.endsWith('.json')) file = ABI_DIR + rest.slice(4)
  else if (FILE.test(rest)) file = appDir() + rest
  const info = file ? await stat(file).catch(() => undefined) : undefined
  if (!file || !info?.isFile()) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path}\n`)
    return true
  }
  // revalidated on every load (no-cache), answered 304 while the file is unchanged
  const etag = `"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, { etag, 'cache-control': 'no-cache' }).end()
    return true
  }
  const body = await readFile(file)
  const ext = file.slice(file.lastIndexOf('.') + 1)
  res.writeHead(200, {
    'content-type': TYPES[ext] ?? 'application/octet-stream',
    'cache-control': 'no-cache',
    etag,
    // the page talks only to this node: no other origin for scripts, styles, images or connections
    'content-security-policy':
      "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'",
    'x-content-type-options': 'nosniff',
  })
  res.end(body)
  return true
}
