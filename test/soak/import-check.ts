// The soak's export/import check, done as the run goes: at each kill -9 (the node is down, its datadir as a crash
// left it) the datadir is copied, and that copy's chain is exported and imported into one fresh datadir in the
// background while the run goes on. At the end the whole chain is exported from the node's datadir and imported
// into the same datadir: the blocks already imported are found present (same number, same hash) and only the rest
// is executed, so every block is executed once on import and the head and state root are compared as before —
// without a 10k-block import (5-18 min on this machine) after the run.
import { execFile } from 'node:child_process'
import { cpSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

export interface ImportResult {
  /** Blocks executed by the imports (background and final). */
  imported: number
  /** Blocks found present by the final import (imported in the background before). */
  skipped: number
  head?: { number: string; hash: string }
  stateRoot?: string
}

export class ImportCheck {
  /** The datadir every import goes into. */
  readonly target: string
  private pending: Promise<void> = Promise.resolve()
  private initialised = false
  private snapshots = 0
  /** Blocks executed in the background, and the first background failure. */
  backgroundImported = 0
  backgroundMs = 0
  error: string | undefined

  /** `bin` is the lattice CLI entry; `dir` a scratch folder of this check's own. */
  constructor(
    private readonly bin: string,
    private readonly dir: string,
    private readonly genesis: (datadir: string) => string,
  ) {
    this.target = join(dir, 'node')
  }

  private async cli(args: string[]): Promise<any> {
    try {
      const { stdout } = await run(process.execPath, [this.bin, ...args, '--json'], {
        encoding: 'utf8',
        maxBuffer: 64 << 20,
      })
      return JSON.parse(stdout)
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string }
      throw new Error(
        `lattice ${args[0]} failed: ${`${e.stderr ?? ''}\n${e.stdout ?? ''}`.trim().slice(-2000) || e.message}`,
      )
    }
  }

  /** A fresh datadir with the run's genesis and its IPFS blocks (the imported chain re-executes the models). */
  private async init(datadir: string): Promise<void> {
    if (this.initialised) return
    await this.cli(['init', '--genesis', this.genesis(datadir), '--datadir', this.target])
    cpSync(join(datadir, 'ipfs'), join(this.target, 'ipfs'), { recursive: true })
    this.initialised = true
  }

  /** Export `datadir`'s chain (to `to`, default its head) and import it into the target. */
  private async exportImport(datadir: string, to?: number): Promise<ImportResult> {
    await this.init(datadir)
    const file = join(this.dir, 'blocks.rlp')
    await this.cli(['export', file, '--datadir', datadir, ...(to === undefined ? [] : ['--to', String(to)])])
    const r = await this.cli(['import', file, '--datadir', this.target])
    rmSync(file, { force: true })
    return r
  }

  /**
   * Call while the node is down: copies its datadir (synchronously, before the node restarts on it), then exports
   * and imports the copy in the background, after any earlier snapshot's import.
   */
  snapshot(datadir: string): void {
    const n = ++this.snapshots
    const snap = join(this.dir, `snapshot-${n}`)
    cpSync(datadir, snap, { recursive: true })
    this.pending = this.pending.then(async () => {
      if (this.error) return
      const t0 = performance.now()
      try {
        const r = await this.exportImport(snap)
        this.backgroundImported += r.imported
        rmSync(snap, { recursive: true, force: true })
      } catch (err) {
        // the copy stays, as evidence
        this.error = `export/import of the copy taken at kill -9 #${n} (${snap}): ${(err as Error).message}`
      } finally {
        this.backgroundMs += performance.now() - t0
      }
    })
  }

  /** Wait for the background imports, then export the node's chain to `head` and import it; throws on failure. */
  async finish(datadir: string, head: number): Promise<ImportResult> {
    await this.pending
    if (this.error) throw new Error(this.error)
    const r = await this.exportImport(datadir, head)
    return { ...r, imported: this.backgroundImported + r.imported }
  }
}
