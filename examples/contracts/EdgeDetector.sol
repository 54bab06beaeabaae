// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Tensor} from "../../contracts/ILatticeInference.sol";
import {Lattice} from "../../contracts/Lattice.sol";

/// @notice Scores how much structure an image has with the `edges` example model (grayscale + Sobel).
/// @dev The image is RGB, channel-major ([1,3,H,W]), each value in [0, 1] with 2 decimals (0.9 = 90).
///      The model's gradient magnitudes come back with the same 2 decimals.
contract EdgeDetector {
    bytes32 public immutable modelId;

    /// @notice Gradient magnitude (2 decimals) above which a pixel counts as an edge.
    int256 public constant THRESHOLD = 50;

    mapping(bytes32 => uint256) public edgePixels;
    uint256 public lastEdgePixels;
    int256 public lastMaxEdge;

    event ImageScored(bytes32 indexed imageHash, uint256 edgePixels, int256 maxEdge);

    constructor(bytes32 modelId_) {
        modelId = modelId_;
    }

    function score(int256[] calldata rgbE2, uint64 height, uint64 width) external returns (uint256 count) {
        uint64[] memory shape = new uint64[](4);
        shape[0] = 1;
        shape[1] = 3;
        shape[2] = height;
        shape[3] = width;
        Tensor[] memory out = Lattice.infer(modelId, Lattice.fixedTensor("image", rgbE2, 2, shape));
        // outputs: gray [1,1,H,W], edges [1,1,H,W]
        int256[] memory edges = Lattice.toInt256(out[1]);
        int256 maxEdge;
        for (uint256 i = 0; i < edges.length; i++) {
            if (edges[i] > THRESHOLD) count++;
            if (edges[i] > maxEdge) maxEdge = edges[i];
        }
        bytes32 h = keccak256(abi.encodePacked(rgbE2, height, width));
        edgePixels[h] = count;
        lastEdgePixels = count;
        lastMaxEdge = maxEdge;
        emit ImageScored(h, count, maxEdge);
    }
}
