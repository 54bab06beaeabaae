import { LatticeError } from '../../errors.ts'

/** `lattice network` could not start, stop or read a local network; the message says what to do. */
export class NetworkError extends LatticeError {
  constructor(code: string, message: string, opts: { details?: string; cause?: unknown } = {}) {
    super(code, message, opts)
  }
}

/** The directory holds no network (no network.json). */
export class NoNetworkError extends NetworkError {
  constructor(dir: string) {
    super('NO_NETWORK', `No network in ${dir} (no network.json). Start one with \`lattice network up --dir ${dir}\`.`)
  }
}

/** The directory already holds a network. */
export class NetworkExistsError extends NetworkError {
  constructor(dir: string) {
    super(
      'NETWORK_EXISTS',
      `${dir} already holds a network. Stop it with \`lattice network down --dir ${dir}\`, then pass --reset to start a fresh one there, or pick another --dir.`,
    )
  }
}

/** No Lodestar binary where one was looked for. */
export class LodestarMissingError extends NetworkError {
  constructor(path: string) {
    super(
      'LODESTAR_MISSING',
      `No Lodestar at ${path}. Install it with \`scripts/lodestar.sh\` (Lodestar 1.5.1 into .cache/lodestar), or pass --lodestar with the path of a lodestar binary.`,
    )
  }
}

/** A process of the network exited or did not become ready in time. */
export class NetworkStartError extends NetworkError {
  constructor(what: string, reason: string, log: string) {
    super('NETWORK_START', `${what} ${reason}. See its log: ${log}`)
  }
}
