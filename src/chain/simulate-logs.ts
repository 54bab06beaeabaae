import type { EVMResult, InterpreterStep, Message } from '@ethereumjs/evm'
import { bigIntToBytes, hexToBytes, setLengthLeft } from '@ethereumjs/util'

/** A log of a simulated call, before the block hash is known. */
export interface SimLog {
  address: Uint8Array
  topics: Uint8Array[]
  data: Uint8Array
  logIndex: number
}

/** geth's simulator reports ETH transfers as ERC-20-style Transfer logs from this address. */
const TRANSFER_TOPIC = hexToBytes('0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef')
const TRANSFER_ADDRESS = hexToBytes(`0x${'ee'.repeat(20)}`)

/** Collects the logs of one call, with ETH transfers as logs when asked, dropping those of failed frames. */
export class LogCollector {
  private readonly frames: SimLog[][] = []
  done: SimLog[] = []

  /** `counter` numbers logs across the block as they are emitted (geth counts those later dropped too). */
  constructor(
    private readonly transfers: boolean,
    private readonly counter: { n: number },
  ) {}

  private push(l: Omit<SimLog, 'logIndex'>): void {
    this.frames[this.frames.length - 1]?.push({ ...l, logIndex: this.counter.n++ })
  }

  enter(m: Message): void {
    this.frames.push([])
    if (this.transfers && m.value > 0n && !m.delegatecall) {
      const to = m.to ?? undefined
      this.push({
        address: TRANSFER_ADDRESS,
        topics: [
          TRANSFER_TOPIC,
          setLengthLeft(m.caller.bytes, 32),
          setLengthLeft(to ? to.bytes : new Uint8Array(), 32),
        ],
        data: setLengthLeft(bigIntToBytes(m.value), 32),
      })
    }
  }

  async step(s: InterpreterStep): Promise<void> {
    const code = s.opcode.code
    if (code === 0xff && this.transfers) {
      // SELFDESTRUCT moves the whole balance: a transfer like any other
      const balance = (await s.stateManager.getAccount(s.address))?.balance ?? 0n
      const to = setLengthLeft(bigIntToBytes(s.stack[s.stack.length - 1]), 32)
      if (balance > 0n) {
        this.push({
          address: TRANSFER_ADDRESS,
          topics: [TRANSFER_TOPIC, setLengthLeft(s.address.bytes, 32), to],
          data: setLengthLeft(bigIntToBytes(balance), 32),
        })
      }
      return
    }
    if (code < 0xa0 || code > 0xa4) return
    const st = s.stack
    const offset = Number(st[st.length - 1])
    const size = Number(st[st.length - 2])
    const topics = st
      .slice(st.length - 2 - (code - 0xa0), st.length - 2)
      .reverse()
      .map((t) => setLengthLeft(bigIntToBytes(t), 32))
    const data = new Uint8Array(size)
    data.set(s.memory.subarray(offset, offset + size))
    this.push({ address: s.address.bytes, topics, data })
  }

  exit(r: EVMResult): void {
    const frame = this.frames.pop() ?? []
    const ok = r.execResult.exceptionError === undefined
    const parent = this.frames[this.frames.length - 1]
    if (!ok) return
    if (r.createdAddress && this.transfers) {
      // the transfer log of a creation names the new contract
      for (const l of frame) {
        if (l.address === TRANSFER_ADDRESS && l.topics[2].every((b) => b === 0)) {
          l.topics[2] = setLengthLeft(r.createdAddress.bytes, 32)
        }
      }
    }
    if (parent) parent.push(...frame)
    else this.done = frame
  }
}
