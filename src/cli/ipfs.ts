// Shared plumbing for the `lattice ipfs ...` commands: flags, opening the store, progress bars, output.

import type { ModelStore, StorageProgressEvent } from '../storage/types.ts'
import { type CliIO, type CliOption, printResult } from './command.ts'

/** Flags every `ipfs` command takes. */
export const IPFS_STORE_OPTIONS: CliOption[] = [
  { flags: '--datadir <dir>', description: 'data directory (default: $LATTICE_DATADIR or ~/.lattice/devnet)' },
  { flags: '--ipfs-api <url>', description: 'use an external IPFS (Kubo) daemon, e.g. http://127.0.0.1:5001' },
  { flags: '--json', description: 'print machine-readable JSON' },
]

/** The data directory a command works on. */
export async function datadirOf(opts: Record<string, any>): Promise<string> {
  const { defaultDatadir } = await import('../storage/paths.ts')
  return (opts.datadir as string | undefined) ?? defaultDatadir()
}

/** Open the datadir's embedded store, or the Kubo daemon given by --ipfs-api. */
export async function openStore(opts: Record<string, any>): Promise<ModelStore> {
  const { createModelStore } = await import('../storage/create.ts')
  return createModelStore({ datadir: await datadirOf(opts), ipfsApi: opts.ipfsApi as string | undefined })
}

/** Run `fn` with the store open, closing it afterwards. */
export async function withStore<T>(opts: Record<string, any>, fn: (store: ModelStore) => Promise<T>): Promise<T> {
  const store = await openStore(opts)
  try {
    return await fn(store)
  } finally {
    await store.close()
  }
}

/** A byte progress bar on a terminal (never with --json); a no-op elsewhere. */
export async function progressBar(
  io: CliIO,
  opts: Record<string, any>,
  label: string,
): Promise<{ onProgress: (e: StorageProgressEvent) => void; stop(): void }> {
  if (!io.isTTY || opts.json) return { onProgress: () => {}, stop: () => {} }
  const { SingleBar, Presets } = await import('cli-progress')
  const mib = (n: number) => (n / 1024 / 1024).toFixed(1)
  const bar = new SingleBar(
    {
      format: `${label} [{bar}] {percentage}% | {done}/{all} MiB`,
      stream: io.stderr as NodeJS.WriteStream,
      hideCursor: true,
      clearOnComplete: true,
    },
    Presets.shades_classic,
  )
  let started = false
  return {
    onProgress(e) {
      if (e.op === 'repair' || e.op === 'pin') return
      const total = e.total ?? e.done
      if (!started) {
        bar.start(Math.max(total, 1), 0, { done: mib(0), all: mib(total) })
        started = true
      }
      bar.setTotal(Math.max(total, 1))
      bar.update(e.done, { done: mib(e.done), all: mib(total) })
    },
    stop() {
      if (started) bar.stop()
    },
  }
}

/** Print `value` as JSON (with --json) or as `text` lines (the runner's printResult; opts.json for direct calls). */
export function print(io: CliIO, opts: Record<string, any>, value: unknown, text: string): void {
  printResult(opts.json ? { ...io, json: true } : io, value, text)
}
