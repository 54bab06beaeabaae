// stdio transport: one session over the process's stdin/stdout (how MCP clients launch a local server).
// stdout carries only MCP messages; everything human goes to stderr.
import type { Readable, Writable } from 'node:stream'
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js'
import type { McpHub } from './server.ts'

/** Options for {@link runMcpStdio}. */
export interface McpStdioOpts {
  hub: McpHub
  stdin?: Readable
  stdout?: Writable
}

/** Serve one session; resolves when the client closes stdin or `stop` is called. */
export function runMcpStdio(opts: McpStdioOpts): { done: Promise<void>; stop(): Promise<void> } {
  const stdin = opts.stdin ?? process.stdin
  const server = opts.hub.session()
  const transport = new StdioServerTransport(stdin, opts.stdout ?? process.stdout)
  let stopping: Promise<void> | undefined
  const stop = () => {
    stopping ??= server.close().catch(() => {})
    return stopping
  }
  const done = new Promise<void>((resolve, reject) => {
    server.server.onclose = () => resolve()
    // the SDK's transport does not watch for end of input: a client that exits closes our stdin
    stdin.once('end', () => void stop())
    stdin.once('close', () => void stop())
    server.connect(transport).catch(reject)
  })
  return { done, stop }
}
