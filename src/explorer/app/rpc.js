// JSON-RPC to the node that serves this page (same origin): POST over HTTP, and newHeads over WebSocket.

/** An error answer from the node, with its JSON-RPC code. */
export class RpcError extends Error {
  constructor(method, error) {
    super(`${method}: ${error.message}`)
    this.code = error.code
    this.data = error.data
  }
}

let nextId = 1

/** Call one method; throws RpcError on an error answer. */
export async function call(method, params = []) {
  const res = await fetch('/', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params }),
  })
  const body = await res.json()
  if (body.error) throw new RpcError(method, body.error)
  return body.result
}

/** Call several methods in one batch; each entry is the result or an RpcError (never throws for one call). */
export async function batch(calls) {
  if (calls.length === 0) return []
  const first = nextId
  nextId += calls.length
  const res = await fetch('/', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(calls.map(([method, params], i) => ({ jsonrpc: '2.0', id: first + i, method, params }))),
  })
  const body = await res.json()
  const byId = new Map(body.map((r) => [r.id, r]))
  return calls.map(([method], i) => {
    const r = byId.get(first + i)
    if (!r) return new RpcError(method, { code: -32603, message: 'no answer' })
    return r.error ? new RpcError(method, r.error) : r.result
  })
}

/**
 * Follow new heads over a WebSocket on this origin (eth_subscribe newHeads); reconnects after a drop.
 * `onHead(header)` gets each header; `onState('live' | 'down')` the connection state.
 */
export function followHeads(onHead, onState) {
  let stopped = false
  let socket
  const open = () => {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws'
    socket = new WebSocket(`${scheme}://${location.host}/`)
    socket.onopen = () => {
      socket.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_subscribe', params: ['newHeads'] }))
      onState('live')
    }
    socket.onmessage = (ev) => {
      const msg = JSON.parse(ev.data)
      if (msg.method === 'eth_subscription' && msg.params?.result) onHead(msg.params.result)
    }
    socket.onclose = () => {
      onState('down')
      if (!stopped) setTimeout(open, 2000)
    }
  }
  open()
  return () => {
    stopped = true
    socket?.close()
  }
}
