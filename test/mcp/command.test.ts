// `lattice mcp` flag checks and the pure pieces of the server (no node needed).
import { Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { mcpCommand } from '../../src/cli/commands/mcp.ts'
import { McpOptionError, McpUnknownModelError } from '../../src/mcp/errors.ts'
import { modelIdArg, parseIoSummary } from '../../src/mcp/models.ts'
import { toolError } from '../../src/mcp/results.ts'

const io = () => {
  let err = ''
  const stderr = new Writable({
    write(c, _e, cb) {
      err += String(c)
      cb()
    },
  })
  return { io: { stdout: new Writable({ write: (_c, _e, cb) => cb() }), stderr, isTTY: false }, err: () => err }
}

describe('lattice mcp', () => {
  it('refuses bad flags before connecting, saying what to pass', async () => {
    await expect(mcpCommand.run([], { transport: 'sse' }, io().io)).rejects.toThrow(
      new McpOptionError('--transport "sse" is not a transport. Pass stdio or http.'),
    )
    await expect(mcpCommand.run([], { transport: 'http', port: '70000' }, io().io)).rejects.toThrow(/--port 70000/)
    await expect(mcpCommand.run([], { poll: '5' }, io().io)).rejects.toThrow(/--poll 5 is not a period/)
  })

  it('says when no node answers at --rpc-url', async () => {
    await expect(mcpCommand.run([], { rpcUrl: 'http://127.0.0.1:9' }, io().io)).rejects.toThrow(
      /Cannot reach a Lattice node at http:\/\/127\.0\.0\.1:9/,
    )
  })

  it('parses the registry io summary into tensors with symbolic dims', () => {
    expect(parseIoSummary('tokens:int64[1,T] -> logits:float32[1,T,28],next:int64[1,T]')).toEqual({
      inputs: [{ name: 'tokens', dtype: 'int64', shape: [1, 'T'] }],
      outputs: [
        { name: 'logits', dtype: 'float32', shape: [1, 'T', 28] },
        { name: 'next', dtype: 'int64', shape: [1, 'T'] },
      ],
    })
    expect(parseIoSummary('s:float32[] -> y:float32[]').inputs[0].shape).toEqual([])
  })

  it('checks model ids and words tool errors as CODE: message', () => {
    expect(modelIdArg(`0x${'AB'.repeat(32)}`)).toBe(`0x${'ab'.repeat(32)}`)
    expect(() => modelIdArg('iris')).toThrow(/"iris" is not a model id/)
    const r = toolError(new McpUnknownModelError(`0x${'00'.repeat(32)}`, 'http://n'))
    expect(r.isError).toBe(true)
    expect((r.content[0] as { text: string }).text).toMatch(/^MCP_UNKNOWN_MODEL: No model 0x0{64} in the registry/)
    expect((toolError(new Error('boom')).content[0] as { text: string }).text).toBe('ERROR: boom')
  })
})
