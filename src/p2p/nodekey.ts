// The node's libp2p identity, kept in the datadir like geth's `nodekey`: the peer id other nodes list as a
// bootnode must survive a restart. Hex of the protobuf-encoded Ed25519 key, readable by the owner only.
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
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
  // 'wx': two nodes started on one datadir at once must not both write a key; the loser reads the winner's
  try {
    await writeFile(path, `${Buffer.from(privateKeyToProtobuf(key)).toString('hex')}\n`, { mode: 0o600, flag: 'wx' })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return loadOrCreateNodeKey(path)
    throw new NodeKeyError(path, err)
  }
  await chmod(path, 0o600) // the umask may have narrowed it further, never widened; make it exact
  return key
}
