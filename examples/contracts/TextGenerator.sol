// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Tensor} from "../../contracts/ILatticeInference.sol";
import {Lattice} from "../../contracts/Lattice.sol";

/// @notice Generates text greedily with the `bigram` example model, one character per inference.
/// @dev Vocabulary: " abcdefghijklmnopqrstuvwxyz." (token i is the i-th character).
contract TextGenerator {
    bytes32 public immutable modelId;
    bytes internal constant VOCAB = " abcdefghijklmnopqrstuvwxyz.";

    string public lastText;

    event Generated(address indexed by, string prompt, string text);

    error UnknownCharacter(bytes1 c);

    constructor(bytes32 modelId_) {
        modelId = modelId_;
    }

    function tokenOf(bytes1 c) internal pure returns (int64) {
        for (uint256 i = 0; i < VOCAB.length; i++) {
            if (VOCAB[i] == c) return int64(int256(i));
        }
        revert UnknownCharacter(c);
    }

    /// @notice Continue `prompt` (lower-case letters, spaces, dots) by `steps` characters; stores and emits the text.
    function generate(string calldata prompt, uint256 steps) external returns (string memory text) {
        bytes memory p = bytes(prompt);
        bytes memory out = new bytes(p.length + steps);
        for (uint256 i = 0; i < p.length; i++) out[i] = p[i];
        // the model predicts the next token for every position; only the last one matters for greedy decoding
        int64[] memory token = new int64[](1);
        uint64[] memory shape = new uint64[](2);
        shape[0] = 1;
        shape[1] = 1;
        token[0] = tokenOf(p[p.length - 1]);
        for (uint256 s = 0; s < steps; s++) {
            Tensor[] memory res = Lattice.infer(modelId, Lattice.int64Tensor("tokens", token, shape));
            int64[] memory next = Lattice.toInt64(res[1]);
            token[0] = next[next.length - 1];
            out[p.length + s] = VOCAB[uint256(int256(token[0]))];
        }
        text = string(out);
        lastText = text;
        emit Generated(msg.sender, prompt, text);
    }
}
