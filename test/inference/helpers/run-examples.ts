// Child process for the determinism test: run every example model under the consensus profile and print
// the sha256 of each model's outputs (names, dtypes, shapes and data bytes) as JSON.
import { createHash } from 'node:crypto'
import { exampleModels } from '../../../examples/models/index.ts'
import { createConsensusSession } from '../../../src/inference/onnx.ts'

const out: Record<string, string> = {}
for (const m of exampleModels()) {
  const session = await createConsensusSession({ model: m.bytes })
  const h = createHash('sha256')
  // run twice in the same process too: the second run must not differ from the first
  for (let i = 0; i < 2; i++) {
    const outputs = await session.run(m.sampleInput)
    for (const t of outputs) {
      h.update(`${t.name}:${t.dtype}:${t.shape.join('x')}:`)
      h.update(t.data)
    }
  }
  await session.dispose()
  out[m.name] = h.digest('hex')
}
process.stdout.write(JSON.stringify(out))
