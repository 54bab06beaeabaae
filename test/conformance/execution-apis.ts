// `npm run conformance`: replay the execution-apis suite (hive's rpc-compat files) against a Lattice node.
import { KNOWN_FAILURES, runConformance } from './execution-apis/runner.ts'

const filterArg = process.argv[2]
const started = performance.now()
const results = await runConformance({
  filter: filterArg ? (name) => name.includes(filterArg) : undefined,
  onResult: (r) => {
    if (process.env.VERBOSE) process.stdout.write(`${r.ok ? 'PASS' : 'FAIL'} ${r.name}\n`)
  },
})
const failed = results.filter((r) => !r.ok)
for (const r of failed) {
  process.stdout.write(`FAIL ${r.name}: ${r.diff}\n`)
  if (KNOWN_FAILURES[r.name]) process.stdout.write(`     known: ${KNOWN_FAILURES[r.name]}\n`)
}
const unexpected = failed.filter((r) => !KNOWN_FAILURES[r.name])
process.stdout.write(
  `\n${results.length - failed.length} passed, ${failed.length} failed (${unexpected.length} not in the known list; ${((performance.now() - started) / 1000).toFixed(1)}s)\n`,
)
process.exitCode = unexpected.length > 0 ? 1 : 0
