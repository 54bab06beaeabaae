// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

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
    /// @dev Reverts `Error(string)` for an unknown, inactive or inaccessible model or bad tensors; with too little
    ///      gas for the planned FLOPs it halts out-of-gas before running (docs/precompile.md). When any input is
    ///      fixed-point, float outputs come back fixed-point with the largest input scale.
    /// @param modelId the model's id in ModelRegistry
    /// @param inputs the model's input tensors (docs/tensors.md)
    /// @return outputs the model's output tensors
    function infer(bytes32 modelId, Tensor[] calldata inputs) external returns (Tensor[] memory outputs);

    /// @notice Run the model on each input set; one session run over a stacked batch when the model's
    ///         first dimension is dynamic, else one run per item. Gas reflects the FLOPs actually run.
    /// @param modelId the model's id in ModelRegistry
    /// @param batch one input set per item, each as `infer` takes it
    /// @return outputs one output set per item, in the order of `batch`
    function inferBatch(bytes32 modelId, Tensor[][] calldata batch) external returns (Tensor[][] memory outputs);

    /// @notice FLOPs and gas an `infer` with these inputs would cost, without running the model.
    /// @param modelId the model's id in ModelRegistry
    /// @param inputs the tensors an `infer` would send
    /// @return flops the FLOPs the model's graph needs for these input shapes
    /// @return gas the gas `infer` would charge for them
    function estimate(bytes32 modelId, Tensor[] calldata inputs) external view returns (uint256 flops, uint256 gas);

    /// @notice Whether `claimed` is within a tolerance of `expected` (contracts/IInferenceMarket.sol's Tolerance
    ///         semantics; docs/accelerated.md). Gas is charged per element compared (docs/gas.md).
    /// @dev Reverts `Error(string)` for malformed tensors; a shape, dtype, name or count mismatch is `ok == false`.
    /// @param claimed the outputs to judge (an accelerated executor's)
    /// @param expected the consensus runtime's outputs for the same inputs
    /// @param maxUlp float elements within this many units in the last place pass
    /// @param maxAbsE9 float elements whose absolute difference is at most maxAbsE9 * 1e-9 pass
    /// @param sameArgmax compare only the argmax along each output's last axis
    /// @return ok true when every element (or every argmax) passes
    /// @return worstUlp the largest ulp distance seen over float elements (saturating at 2^32 - 1)
    /// @return firstBad flat index over all outputs of the first element that failed (type(uint256).max if none)
    function withinTolerance(
        Tensor[] calldata claimed,
        Tensor[] calldata expected,
        uint32 maxUlp,
        uint64 maxAbsE9,
        bool sameArgmax
    ) external view returns (bool ok, uint256 worstUlp, uint256 firstBad);
}
