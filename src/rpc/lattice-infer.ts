// lattice_infer's access rules are the chain's: a run is an eth_call from `from` — straight to the precompile
// for a free model, through ModelRegistry.infer with the price for a priced one — so the precompile's policy
// checks, the registry's payment check and the call gas cap all apply; a `fast` run checks the same rules first.
import { bytesToHex, createAddressFromString } from '@ethereumjs/util'
import { Interface, type InterfaceAbi } from 'ethers'
import { contractAbi } from '../chain/abi.ts'
import { TX_GAS_CAP } from '../chain/chain.ts'
import { ExecutionFailedError } from '../chain/errors.ts'
import type { LatticeNode } from '../chain/node.ts'
import type { IndexedModel } from '../chain/registry-index.ts'
import type { Tensor } from '../inference/tensor.ts'
import { abiTensors } from '../precompiles/abi.ts'
import { INFERENCE_PRECOMPILE_ADDRESS, MODEL_REGISTRY_ADDRESS } from '../precompiles/addresses.ts'
import type { InferencePrecompile } from '../precompiles/inference.ts'
import { invalidParams } from './errors.ts'

export { abiTensors }

const REGISTRY_ABI = new Interface(contractAbi('ModelRegistry') as InterfaceAbi)
/** The inference precompile's `infer` and `estimate` (contracts/ILatticeInference.sol, from the solc build). */
export const INFERENCE_ABI = new Interface(contractAbi('ILatticeInference') as InterfaceAbi)

/** 0x-hex to bytes. */
export const hexBytes = (hex: string) => Buffer.from(hex.slice(2), 'hex')

/** The chain's rules for an off-chain inference. */
export interface InferenceAccess {
  /** Run as an eth_call from `from` at the head; outputs as the precompile returns them. */
  inferAsCall(m: IndexedModel, from: string, inputs: Tensor[]): Promise<Tensor[]>
  /** Check access, price and the call gas cap for `from` without running. */
  authoriseFast(m: IndexedModel, from: string, inputs: Tensor[]): Promise<void>
}

/** Build the access checks over a node and its precompile. */
export function createInferenceAccess(opts: { node: LatticeNode; inference: InferencePrecompile }): InferenceAccess {
  const { node, inference } = opts
  /** The gas an eth_call may use: the head's gas limit, capped at the transaction gas cap. */
  const callGasCap = () => {
    const limit = node.chain.head.header.gasLimit
    return limit < TX_GAS_CAP ? limit : TX_GAS_CAP
  }

  async function balanceOf(a: string): Promise<bigint> {
    const sm = await node.chain.stateAt(node.chain.head)
    return (await sm.getAccount(createAddressFromString(a)))?.balance ?? 0n
  }

  /**
   * lattice_infer's access rules are the chain's: the call runs as an eth_call from `from` — straight to the
   * precompile for a free model, through ModelRegistry.infer with the price for a priced one — so the
   * precompile's policy checks, the registry's payment check and the call gas cap all apply.
   */
  async function inferAsCall(m: IndexedModel, from: string, inputs: Tensor[]): Promise<Tensor[]> {
    const price = BigInt(m.price)
    await payable(m, from, price)
    const data =
      price > 0n
        ? REGISTRY_ABI.encodeFunctionData('infer', [m.modelId, abiTensors(inputs)])
        : INFERENCE_ABI.encodeFunctionData('infer', [m.modelId, abiTensors(inputs)])
    const res = await node.call(
      {
        from: createAddressFromString(from),
        to: createAddressFromString(price > 0n ? MODEL_REGISTRY_ADDRESS : INFERENCE_PRECOMPILE_ADDRESS),
        data: hexBytes(data),
        value: price,
        gas: callGasCap(),
      },
      node.chain.head,
    )
    const [outs] = INFERENCE_ABI.decodeFunctionResult('infer', bytesToHex(res.execResult.returnValue)) as unknown as [
      [string, bigint, bigint[], string][],
    ]
    return outs.map(([name, dtype, shape, d]) => ({
      name,
      dtype: Number(dtype),
      shape: shape.map(Number),
      data: new Uint8Array(hexBytes(d)),
    }))
  }

  /** A priced model is run only by a caller who could pay its price (as anvil refuses value it does not have). */
  async function payable(m: IndexedModel, from: string, price: bigint): Promise<void> {
    if (price === 0n) return
    const have = await balanceOf(from)
    if (have < price)
      throw new ExecutionFailedError(
        `insufficient funds for the model's price: ${from} has ${have} wei, model ${m.modelId} costs ${price} wei`,
      )
  }

  /**
   * The same rules for a `fast` run, without running on the consensus path: the registry's access check and
   * the price for a priced model, the precompile's checks (as `from`) for a free one, and the call gas cap.
   */
  async function authoriseFast(m: IndexedModel, from: string, inputs: Tensor[]): Promise<void> {
    const price = BigInt(m.price)
    await payable(m, from, price)
    const head = node.chain.head
    if (price > 0n) {
      const r = await node.call(
        {
          from: createAddressFromString(from),
          to: createAddressFromString(MODEL_REGISTRY_ADDRESS),
          data: hexBytes(REGISTRY_ABI.encodeFunctionData('isAllowed', [m.modelId, from])),
        },
        head,
      )
      if (!(REGISTRY_ABI.decodeFunctionResult('isAllowed', bytesToHex(r.execResult.returnValue))[0] as boolean))
        throw invalidParams(`invalid argument request.from: ${from} may not run model ${m.modelId} (its access policy)`)
    }
    // estimate as `from` (a free model: the precompile's access checks) or as the registry forwards a paid call
    let gas: bigint
    if (price > 0n) {
      ;({ gas } = await inference.estimate(await node.chain.stateAt(head), m.modelId, inputs, MODEL_REGISTRY_ADDRESS))
    } else {
      const res = await node.call(
        {
          from: createAddressFromString(from),
          to: createAddressFromString(INFERENCE_PRECOMPILE_ADDRESS),
          data: hexBytes(INFERENCE_ABI.encodeFunctionData('estimate', [m.modelId, abiTensors(inputs)])),
        },
        head,
      )
      ;[, gas] = INFERENCE_ABI.decodeFunctionResult('estimate', bytesToHex(res.execResult.returnValue)) as unknown as [
        bigint,
        bigint,
      ]
    }
    const cap = callGasCap()
    if (gas > cap)
      throw new ExecutionFailedError(`out of gas: the inference needs ${gas} gas, the call gas cap is ${cap}`)
  }

  return { inferAsCall, authoriseFast }
}
