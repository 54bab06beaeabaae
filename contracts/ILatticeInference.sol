// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice A named tensor in Lattice's canonical encoding (docs/tensors.md).
/// @dev `dtype` is ONNX's element type code (1 float32, 2 uint8, 3 int8, 5 int16, 6 int32, 7 int64, 9 bool,
///      10 float16) with little-endian row-major `data`, or a fixed-point code `128 + decimals` whose
///      `data` is `abi.encodePacked(int256[])` (big-endian two's complement, 32 bytes per element).
struct Tensor {
    string name;
    uint8 dtype;
    uint64[] shape;
    bytes data;
}

/// @notice The inference precompile at 0x0000000000000000000000000000000000000A11.
/// @dev Calls are ABI-encoded and dispatched by selector. Failures revert with `Error(string)`.
interface ILatticeInference {
    /// @notice Run model `modelId` on `inputs` and return its outputs (in the model's declared order).
    function infer(bytes32 modelId, Tensor[] calldata inputs) external returns (Tensor[] memory outputs);

    /// @notice Run the model on each input set; one session run over a stacked batch when the model's
    ///         first dimension is dynamic, else one run per item. Gas reflects the FLOPs actually run.
    function inferBatch(bytes32 modelId, Tensor[][] calldata batch) external returns (Tensor[][] memory outputs);

    /// @notice FLOPs and gas an `infer` with these inputs would cost, without running the model.
    function estimate(bytes32 modelId, Tensor[] calldata inputs) external view returns (uint256 flops, uint256 gas);
}
