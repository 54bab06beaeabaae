#!/usr/bin/env node
// solc-js (the repository's `solc` npm package) as the `solc` command forge runs: `forge build --offline --use
// ./solc.cjs`. forge asks only for --version and --standard-json.
const solc = require(require.resolve('solc', { paths: [__dirname, process.cwd()] }))

const args = process.argv.slice(2)
if (args.includes('--version')) {
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`)
} else if (args.includes('--standard-json')) {
  let input = ''
  process.stdin.setEncoding('utf8')
  process.stdin.on('data', (d) => {
    input += d
  })
  process.stdin.on('end', () => process.stdout.write(solc.compile(input)))
} else {
  process.stderr.write('this solc is solc-js: it answers --version and --standard-json only\n')
  process.exit(1)
}
