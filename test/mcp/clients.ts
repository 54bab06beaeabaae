// Real MCP clients (the SDK's Client) against `lattice mcp` run as a process, as an agent host runs it.
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'

export const LATTICE = fileURLToPath(new URL('../../bin/lattice.js', import.meta.url))

/** The environment for a server process: no key inherited from the test's own environment. */
function serverEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('LATTICE_')) env[k] = v
  return { ...env, ...extra }
}

/** A client connected to `lattice mcp --transport stdio <args>`; `close` ends the server process. */
export async function stdioClient(args: string[], env: Record<string, string> = {}) {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [LATTICE, 'mcp', '--transport', 'stdio', ...args],
    env: serverEnv(env),
    stderr: 'pipe',
  })
  let stderr = ''
  transport.stderr?.on('data', (c) => (stderr += String(c)))
  const client = new Client({ name: 'lattice-test', version: '1.0.0' })
  try {
    await client.connect(transport)
  } catch (err) {
    await transport.close().catch(() => {})
    throw new Error(`lattice mcp did not start: ${(err as Error).message}\n${stderr}`)
  }
  return { client, pid: transport.pid, stderr: () => stderr, close: () => client.close() }
}

/** `lattice mcp --transport http --port 0 <args>` as a process; resolves with its URL once it listens. */
export function httpServer(args: string[], env: Record<string, string> = {}) {
  const child: ChildProcess = spawn(process.execPath, [LATTICE, 'mcp', '--transport', 'http', '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: serverEnv(env),
  })
  let out = ''
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve()
      child.once('exit', () => resolve())
      child.kill('SIGTERM')
    })
  return new Promise<{ url: string; out: () => string; stop: () => Promise<void> }>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`lattice mcp (http) did not listen in 90 s:\n${out}`))
    }, 90_000)
    const onData = (c: Buffer) => {
      out += String(c)
      const m = /Listening on (http:\/\/\S+)/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve({ url: m[1], out: () => out, stop })
      }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`lattice mcp (http) exited with ${code}:\n${out}`))
    })
  })
}

/** An SDK client over streamable HTTP. */
export async function httpClient(url: string) {
  const client = new Client({ name: 'lattice-test', version: '1.0.0' })
  const transport = new StreamableHTTPClientTransport(new URL(url))
  await client.connect(transport)
  return { client, close: () => client.close() }
}

/** Call a tool and return its result (tool errors included, as `isError`). */
export async function callTool(client: Client, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args }, undefined, { timeout: 120_000 })) as CallToolResult
}

/** The text of a result's first content block. */
export const textOf = (r: CallToolResult) => (r.content[0] as { text: string }).text
