// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {ILatticeInference, Tensor} from "./ILatticeInference.sol";
import {Lattice} from "./Lattice.sol";

/// @title LatticeTest
/// @notice Base for Foundry tests of contracts that call the inference precompile. Foundry's EVM has no
///         precompile at 0x…0A11; these helpers compute what the precompile returns for a call (the model run on
///         Lattice's consensus runtime by the `lattice` CLI through `vm.ffi`, or a node's answer) and install it
///         with `vm.mockCall`, so the contract under test gets the outputs the chain would give.
/// @dev Needs `ffi = true` in foundry.toml. The CLI is `lattice` on the PATH unless the environment variable
///      LATTICE_CLI names it (e.g. /path/to/lattice/bin/lattice.js). A mock answers exactly the calldata it was
///      made for: build the inputs as the contract under test builds them.
abstract contract LatticeTest {
    /// @dev Foundry's cheatcode address, called by signature so that this file needs no forge-std.
    address private constant CHEATS = address(uint160(uint256(keccak256("hevm cheat code"))));

    /// @notice A cheatcode call failed without a reason.
    /// @param cheatcode the name of the cheatcode that failed
    error CheatcodeFailed(string cheatcode);

    /// @notice Mock `infer(modelId, inputs)` with the outputs of the local model file `modelFile`.
    /// @param modelFile path to the model's .onnx (as the test runs: relative to the project root)
    /// @param modelId the id the contract under test calls the model by
    /// @param inputs the input tensors, exactly as the contract passes them
    /// @return outputs what the precompile returns (decoded)
    function mockInference(string memory modelFile, bytes32 modelId, Tensor[] memory inputs)
        internal
        returns (Tensor[] memory outputs)
    {
        return _mock("--model", modelFile, modelId, inputs);
    }

    /// @notice Mock `infer(modelId, input)` (one input tensor) with the outputs of the local model file.
    function mockInference(string memory modelFile, bytes32 modelId, Tensor memory input)
        internal
        returns (Tensor[] memory outputs)
    {
        return _mock("--model", modelFile, modelId, _one(input));
    }

    /// @notice Mock `infer(modelId, inputs)` with what the Lattice node at `rpcUrl` answers (eth_call).
    function mockInferenceFromNode(string memory rpcUrl, bytes32 modelId, Tensor[] memory inputs)
        internal
        returns (Tensor[] memory outputs)
    {
        return _mock("--rpc", rpcUrl, modelId, inputs);
    }

    /// @notice Mock `infer(modelId, input)` (one input tensor) with the node's answer.
    function mockInferenceFromNode(string memory rpcUrl, bytes32 modelId, Tensor memory input)
        internal
        returns (Tensor[] memory outputs)
    {
        return _mock("--rpc", rpcUrl, modelId, _one(input));
    }

    function _one(Tensor memory input) private pure returns (Tensor[] memory inputs) {
        inputs = new Tensor[](1);
        inputs[0] = input;
    }

    function _mock(string memory flag, string memory source, bytes32 modelId, Tensor[] memory inputs)
        private
        returns (Tensor[] memory)
    {
        bytes memory data = abi.encodeCall(ILatticeInference.infer, (modelId, inputs));
        string[] memory cmd = new string[](6);
        cmd[0] = _cheatString(abi.encodeWithSignature("envOr(string,string)", "LATTICE_CLI", "lattice"), "envOr");
        cmd[1] = "precompile-output";
        cmd[2] = "--calldata";
        cmd[3] = _cheatString(abi.encodeWithSignature("toString(bytes)", data), "toString");
        cmd[4] = flag;
        cmd[5] = source;
        bytes memory ret = abi.decode(_cheat(abi.encodeWithSignature("ffi(string[])", cmd), "ffi"), (bytes));
        _cheat(abi.encodeWithSignature("mockCall(address,bytes,bytes)", Lattice.INFERENCE, data, ret), "mockCall");
        return abi.decode(ret, (Tensor[]));
    }

    function _cheat(bytes memory call, string memory name) private returns (bytes memory) {
        (bool ok, bytes memory ret) = CHEATS.call(call);
        if (!ok) {
            if (ret.length == 0) revert CheatcodeFailed(name);
            // the cheatcode's own reason (e.g. the CLI's error output from ffi)
            assembly ("memory-safe") {
                revert(add(ret, 32), mload(ret))
            }
        }
        return ret;
    }

    function _cheatString(bytes memory call, string memory name) private returns (string memory) {
        return abi.decode(_cheat(call, name), (string));
    }
}
