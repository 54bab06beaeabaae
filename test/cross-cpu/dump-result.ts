// Prints a datadir's head, state root and inference records as JSON (run on the host after an emulated import:
// the records are what the emulated CPU computed and stored).
import { openDatadirChain } from '../../src/chain/datadir.ts'
import { chainResult } from './build-chain.ts'

const chain = await openDatadirChain(process.argv[2])
try {
  process.stdout.write(`${JSON.stringify(await chainResult(chain))}\n`)
} finally {
  await chain.close()
}
