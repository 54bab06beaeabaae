// One shape for every tool answer: structured content (validated against the tool's output schema) with the
// same JSON as text for clients that read only text; any failure becomes a tool error, never a thrown one.
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { errorMessage, LatticeError } from '../errors.ts'

/** A successful tool result. */
export function toolResult(structured: Record<string, unknown>, summary?: string): CallToolResult {
  const json = JSON.stringify(structured, null, 2)
  return {
    content: [{ type: 'text', text: summary ? `${summary}\n\n${json}` : json }],
    structuredContent: structured,
  }
}

/** A tool error: `CODE: message`, with the node's reason where the node gave one. */
export function toolError(err: unknown): CallToolResult {
  const text = err instanceof LatticeError ? `${err.code}: ${err.shortMessage}` : `ERROR: ${errorMessage(err)}`
  return { content: [{ type: 'text', text }], isError: true }
}

/** Wrap a handler so that whatever it throws is answered as a tool error. */
export function guarded<A>(
  fn: (args: A) => Promise<{ structured: Record<string, unknown>; summary?: string }>,
): (args: A) => Promise<CallToolResult> {
  return async (args: A) => {
    try {
      const r = await fn(args)
      return toolResult(r.structured, r.summary)
    } catch (err) {
      return toolError(err)
    }
  }
}
