import { describe, expect, it } from 'vitest'
import { runCli } from '../helpers/cli.ts'

describe('--json', () => {
  it('lattice proof deploy-verifier accepts --json (its output is JSON)', async () => {
    const r = await runCli(['proof', 'deploy-verifier', '--json'])
    // parsed as a flag: the command runs and asks for the chain, instead of commander refusing an unknown option
    expect(r.err).not.toMatch(/unknown option/)
    expect(r.err).toMatch(/no chain given/)
    expect(r.code).toBe(1)
  })
})
