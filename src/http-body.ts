// Reading a request body under a size limit, for the JSON-RPC server and the Engine API server alike.
import type { IncomingMessage } from 'node:http'

/**
 * The whole body of `req`, or undefined as soon as it passes `maxBytes` (the rest is not read: the caller
 * answers 413 and destroys the request).
 */
export async function readBodyWithin(req: IncomingMessage, maxBytes: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = []
  let size = 0
  // leaving the loop early must not destroy the request: the caller still writes its 413 on that socket
  for await (const chunk of req.iterator({ destroyOnReturn: false })) {
    size += (chunk as Buffer).length
    if (size > maxBytes) return undefined
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}
