import { type CliCommand, printResult } from '../command.ts'
import { SIGNER_OPTIONS } from '../model-client.ts'

/** `lattice mcp`: a Model Context Protocol server exposing a node's models to AI agents (docs/mcp.md). */
export const mcpCommand: CliCommand = {
  name: 'mcp',
  description: "Serve a Lattice node's models to AI agents over the Model Context Protocol (stdio or HTTP)",
  options: [
    { flags: '--rpc-url <url>', description: 'node JSON-RPC URL (default $LATTICE_RPC_URL or http://127.0.0.1:8545)' },
    { flags: '--transport <kind>', description: 'stdio (launched by an MCP client) or http', default: 'stdio' },
    {
      flags: '--port <n>',
      description: 'HTTP port on 127.0.0.1 (--transport http; 0 picks a free one)',
      default: '8765',
    },
    { flags: '--read-only', description: 'never send transactions, even with a key' },
    { flags: '--poll <ms>', description: 'how often to poll the node for registry changes', default: '2000' },
    ...SIGNER_OPTIONS,
  ],
  async run(_args, opts, io) {
    const { McpOptionError } = await import('../../mcp/errors.ts')
    const transport = String(opts.transport ?? 'stdio')
    if (transport !== 'stdio' && transport !== 'http')
      throw new McpOptionError(`--transport "${transport}" is not a transport. Pass stdio or http.`)
    const port = Number(opts.port ?? 8765)
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new McpOptionError(`--port ${opts.port} is not a port number. Pass an integer from 0 to 65535.`)
    const pollMs = Number(opts.poll ?? 2000)
    if (!Number.isFinite(pollMs) || pollMs < 100)
      throw new McpOptionError(`--poll ${opts.poll} is not a period. Pass milliseconds, at least 100 (e.g. 2000).`)
    const { connect } = await import('../model-client.ts')
    const { createMcpContext } = await import('../../mcp/context.ts')
    const { createMcpHub } = await import('../../mcp/server.ts')
    const { errorMessage } = await import('../../errors.ts')
    const { runUntilSignal } = await import('../signals.ts')
    // on stdio, stdout is the protocol: every human line goes to stderr
    const log = (line: string) => io.stderr.write(`${line}\n`)
    const conn = await connect(opts, { ...io, stdout: io.stderr }, false)
    const ctx = createMcpContext({ conn, readOnly: Boolean(opts.readOnly) })
    let lastPollError = ''
    const hub = createMcpHub({
      ctx,
      pollMs,
      onError: (err) => {
        // one line per distinct failure, not one every poll
        const msg = errorMessage(err)
        if (msg !== lastPollError) log(`lattice mcp: polling ${ctx.url} failed: ${msg}`)
        lastPollError = msg
      },
    })
    const signer = ctx.signer ? await ctx.signer.getAddress() : undefined
    const who = signer ? `signer ${signer}` : `read-only (${ctx.readOnlyReason})`
    try {
      if (transport === 'stdio') {
        const { runMcpStdio } = await import('../../mcp/stdio.ts')
        const s = runMcpStdio({ hub })
        log(`lattice mcp: serving ${ctx.url} (chain ${ctx.chainId}) on stdio, ${who}`)
        const signal = runUntilSignal(() => s.stop())
        await Promise.race([s.done, signal])
      } else {
        const { startMcpHttp } = await import('../../mcp/http.ts')
        const http = await startMcpHttp({ hub, port, onError: (err) => log(`lattice mcp: ${errorMessage(err)}`) })
        // armed before the startup is printed: a supervisor may send SIGTERM as soon as it reads it
        const stopped = runUntilSignal(() => http.close())
        // with --json the startup is one JSON document (on stdio, stdout is the protocol and gets nothing else)
        printResult(
          io,
          {
            transport,
            url: http.url,
            rpcUrl: ctx.url,
            chainId: String(ctx.chainId),
            signer: signer ?? null,
            readOnly: signer ? null : (ctx.readOnlyReason ?? 'read-only'),
          },
          `lattice mcp: serving ${ctx.url} (chain ${ctx.chainId}), ${who}\nListening on ${http.url}`,
        )
        await stopped
      }
    } finally {
      hub.close()
    }
    return 0
  },
}
