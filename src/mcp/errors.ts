// Errors of the MCP server. Tool handlers turn every one of them into a tool error (`isError: true`) whose
// text is `CODE: message`, so an agent reads the node's reason instead of a crashed server.
import { LatticeError } from '../errors.ts'

/** No model with this id in the node's registry index. */
export class McpUnknownModelError extends LatticeError {
  readonly modelId: string
  constructor(modelId: string, rpcUrl: string) {
    super(
      'MCP_UNKNOWN_MODEL',
      `No model ${modelId} in the registry of the node at ${rpcUrl}. Call list_models to see the registered ids.`,
    )
    this.modelId = modelId
  }
}

/** A tool argument is malformed (model id, tensors, address, path); the message says what to pass. */
export class McpInputError extends LatticeError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super('MCP_BAD_INPUT', message, opts)
  }
}

/** A state-changing tool was called on a server without a signer or started with --read-only. */
export class McpReadOnlyError extends LatticeError {
  constructor(what: string, reason: string) {
    super('MCP_READ_ONLY', `${what} sends a transaction, but this server is read-only (${reason}).`)
  }
}

/** A transaction would cost more than the caller allowed (`maxCostWei`). */
export class McpCostLimitError extends LatticeError {
  constructor(message: string) {
    super('MCP_COST_LIMIT', message)
  }
}

/** The node refused a request or answered something the server cannot use; the node's reason is kept. */
export class McpNodeError extends LatticeError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super('MCP_NODE', message, opts)
  }
}

/** `lattice mcp` was started with a bad option (transport, port, poll interval). */
export class McpOptionError extends LatticeError {
  constructor(message: string) {
    super('MCP_BAD_OPTION', message)
  }
}
