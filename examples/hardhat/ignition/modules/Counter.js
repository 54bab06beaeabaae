// Hardhat Ignition module: deploy Counter and call it once (default settings against a devnet).
import { buildModule } from '@nomicfoundation/hardhat-ignition/modules'

export default buildModule('CounterModule', (m) => {
  const counter = m.contract('Counter')
  m.call(counter, 'incBy', [5n])
  return { counter }
})
