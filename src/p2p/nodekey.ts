// The node's libp2p identity, kept in the datadir like geth's `nodekey`: the peer id other nodes list as a
// bootnode must survive a restart. Hex of the protobuf-encoded Ed25519 key, readable by the owner only.
import { randomBytes } from 'node:crypto'
import { chmod, link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { PrivateKey } from '@libp2p/interface'
import { NodeKeyError } from './errors.ts'

/** Where a datadir keeps its node key. */
export function nodeKeyPath(datadir: string): string {
  return join(datadir, 'p2p', 'nodekey')
}

/** Read the node key at `path`, or make one (mode 0600) when there is none. */
export async function loadOrCreateNodeKey(path: string): Promise<PrivateKey> {
  const { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } = await import('@libp2p/crypto/keys')
  let text: string | undefined
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new NodeKeyError(path, err)
  }
  if (text !== undefined) {
    const hex = text.trim()
    if (!/^([0-9a-f]{2})+$/i.test(hex)) throw new NodeKeyError(path)
    try {
      return privateKeyFromProtobuf(Buffer.from(hex, 'hex'))
    } catch (err) {
      throw new NodeKeyError(path, err)
    }
  }
  const key = await generateKeyPair('Ed25519')
  await mkdir(dirname(path), { recursive: true, mode: 0o700 })
  // written aside, then linked into place: link fails if a key appeared meanwhile (two starts on one datadir),
  // and a reader never sees a half-written file; the loser reads the winner's key
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`
  try {
    await writeFile(tmp, `${Buffer.from(privateKeyToProtobuf(key)).toString('hex')}\n`, { mode: 0o600 })
    await chmod(tmp, 0o600) // the umask may have narrowed it further, never widened; make it exact
    await link(tmp, path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return loadOrCreateNodeKey(path)
    throw new NodeKeyError(path, err)
  } finally {
    await unlink(tmp).catch(() => {})
  }
  return key
}
