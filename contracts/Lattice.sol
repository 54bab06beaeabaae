// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {ILatticeInference, Tensor} from "./ILatticeInference.sol";

/// @title Lattice
/// @notice Addresses of Lattice's system contracts and one-line helpers for calling models from Solidity
///         with fixed-point integers (no floats anywhere).
library Lattice {
    /// @notice The inference precompile.
    address internal constant INFERENCE = 0x0000000000000000000000000000000000000a11;
    /// @notice ModelRegistry, predeployed in genesis.
    address internal constant MODEL_REGISTRY = 0xA110000000000000000000000000000000000001;
    /// @notice Reserved for InferenceVerifier.
    address internal constant INFERENCE_VERIFIER = 0xA110000000000000000000000000000000000002;
    /// @notice Reserved for IPFSIncentives.
    address internal constant IPFS_INCENTIVES = 0xA110000000000000000000000000000000000003;
    /// @notice InferenceMarket, predeployed in genesis (docs/accelerated.md).
    address internal constant INFERENCE_MARKET = 0xa110000000000000000000000000000000000004;

    /// @notice ONNX element type codes (docs/tensors.md).
    uint8 internal constant FLOAT32 = 1;
    uint8 internal constant UINT8 = 2;
    uint8 internal constant INT8 = 3;
    uint8 internal constant INT16 = 5;
    uint8 internal constant INT32 = 6;
    uint8 internal constant INT64 = 7;
    uint8 internal constant BOOL = 9;
    uint8 internal constant FLOAT16 = 10;
    /// @notice Fixed-point codes are FIXED_BASE + decimals (0..77).
    uint8 internal constant FIXED_BASE = 128;

    /// @notice `toInt256` got a tensor whose dtype is not a fixed-point code.
    /// @param dtype the tensor's dtype
    error NotFixedPoint(uint8 dtype);
    /// @notice `toInt64` got a tensor whose dtype is not INT64.
    /// @param dtype the tensor's dtype
    error NotInt64(uint8 dtype);
    /// @notice `argmax` of no values.
    error EmptyTensor();

    /// @notice A fixed-point tensor: `values[i] / 10**decimals` is the real number fed to the model.
    /// @param name the model input's name
    /// @param values the elements, row-major
    /// @param decimals the fixed-point scale (0..77)
    /// @param shape the tensor's dimensions
    /// @return the tensor, dtype FIXED_BASE + decimals
    function fixedTensor(string memory name, int256[] memory values, uint8 decimals, uint64[] memory shape)
        internal
        pure
        returns (Tensor memory)
    {
        return Tensor({name: name, dtype: FIXED_BASE + decimals, shape: shape, data: abi.encodePacked(values)});
    }

    /// @notice A fixed-point tensor of shape [1, n] (a single row of features).
    /// @param name the model input's name
    /// @param values the n features
    /// @param decimals the fixed-point scale (0..77)
    /// @return the tensor
    function row(string memory name, int256[] memory values, uint8 decimals) internal pure returns (Tensor memory) {
        uint64[] memory shape = new uint64[](2);
        shape[0] = 1;
        shape[1] = uint64(values.length);
        return fixedTensor(name, values, decimals, shape);
    }

    /// @notice The int256 values of a fixed-point tensor (the precompile returns outputs in the fixed-point
    ///         scale the caller asked for by sending fixed-point inputs).
    /// @dev Reverts NotFixedPoint for any other dtype.
    /// @param t the tensor
    /// @return values the elements, row-major, scaled by 10**(t.dtype - FIXED_BASE)
    function toInt256(Tensor memory t) internal pure returns (int256[] memory values) {
        if (t.dtype < FIXED_BASE) revert NotFixedPoint(t.dtype);
        uint256 n = t.data.length / 32;
        values = new int256[](n);
        bytes memory data = t.data;
        for (uint256 i = 0; i < n; i++) {
            int256 v;
            assembly ("memory-safe") {
                v := mload(add(add(data, 32), mul(i, 32)))
            }
            values[i] = v;
        }
    }

    /// @notice An int64 tensor (little-endian, as the codec defines), e.g. token ids.
    /// @param name the model input's name
    /// @param values the elements, row-major
    /// @param shape the tensor's dimensions
    /// @return the tensor, dtype INT64
    function int64Tensor(string memory name, int64[] memory values, uint64[] memory shape)
        internal
        pure
        returns (Tensor memory)
    {
        bytes memory data = new bytes(values.length * 8);
        for (uint256 i = 0; i < values.length; i++) {
            uint64 v = uint64(values[i]);
            for (uint256 b = 0; b < 8; b++) {
                data[i * 8 + b] = bytes1(uint8(v >> (8 * b)));
            }
        }
        return Tensor({name: name, dtype: INT64, shape: shape, data: data});
    }

    /// @notice The values of an int64 tensor.
    /// @dev Reverts NotInt64 for any other dtype.
    /// @param t the tensor
    /// @return values the elements, row-major
    function toInt64(Tensor memory t) internal pure returns (int64[] memory values) {
        if (t.dtype != INT64) revert NotInt64(t.dtype);
        uint256 n = t.data.length / 8;
        values = new int64[](n);
        for (uint256 i = 0; i < n; i++) {
            uint64 v;
            for (uint256 b = 0; b < 8; b++) {
                v |= uint64(uint8(t.data[i * 8 + b])) << uint64(8 * b);
            }
            values[i] = int64(v);
        }
    }

    /// @notice Index of the largest value (first one on ties).
    /// @dev Reverts EmptyTensor for no values.
    /// @param values the values
    /// @return best the index of the largest
    function argmax(int256[] memory values) internal pure returns (uint256 best) {
        if (values.length == 0) revert EmptyTensor();
        for (uint256 i = 1; i < values.length; i++) {
            if (values[i] > values[best]) best = i;
        }
    }

    /// @notice Run a free model through the precompile.
    /// @dev Bubbles up the precompile's revert as is. Paid models run through ModelRegistry.infer instead.
    /// @param modelId the model's id in ModelRegistry
    /// @param inputs the model's input tensors
    /// @return the model's output tensors
    function infer(bytes32 modelId, Tensor[] memory inputs) internal returns (Tensor[] memory) {
        (bool ok, bytes memory ret) = INFERENCE.call(abi.encodeCall(ILatticeInference.infer, (modelId, inputs)));
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 32), mload(ret))
            }
        }
        return abi.decode(ret, (Tensor[]));
    }

    /// @notice Run a model with a single input tensor.
    /// @param modelId the model's id in ModelRegistry
    /// @param input the model's one input tensor
    /// @return the model's output tensors
    function infer(bytes32 modelId, Tensor memory input) internal returns (Tensor[] memory) {
        Tensor[] memory inputs = new Tensor[](1);
        inputs[0] = input;
        return infer(modelId, inputs);
    }
}
