// Child process for the determinism test: run every example model under the consensus profile and print
// the sha256 of each model's outputs (names, dtypes, shapes and data bytes) as JSON.
import { createHash } from 'node:crypto'
import { exampleModels } from '../../../examples/models/index.ts'
import { createConsensusSession } from '../../../src/inference/onnx.ts'

const out: Record<string, string> = {}
for (const m of exampleModels()) {
  const session = await createConsensusSession({ model: m.bytes })
  // run twice in the same process too: each run is hashed on its own, so a second run that differs shows
  const runs: string[] = []
  for (let i = 0; i < 2; i++) {
    const h = createHash('sha256')
    for (const t of await session.run(m.sampleInput)) {
      h.update(`${t.name}:${t.dtype}:${t.shape.join('x')}:`)
      h.update(t.data)
    }
    runs.push(h.digest('hex'))
  }
  await session.dispose()
  out[m.name] = runs[0] === runs[1] ? runs[0] : `second run differs: ${runs.join(' != ')}`
}
process.stdout.write(JSON.stringify(out))
