// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Tensor} from "../../contracts/ILatticeInference.sol";
import {Lattice} from "../../contracts/Lattice.sol";

/// @notice Classifies iris flowers on-chain with the `iris` example model and keeps the last answer.
/// @dev Features are centimetres with 4 decimals (5.1 cm = 51000): sepal length, sepal width, petal length,
///      petal width. The model's probabilities come back as fixed-point with the same 4 decimals.
contract IrisClassifier {
    bytes32 public immutable modelId;

    uint256 public lastSpecies;
    string public lastLabel;
    /// @notice Probability of the chosen class, 4 decimals (9876 = 0.9876).
    int256 public lastConfidence;
    uint256 public classifications;

    event Classified(address indexed by, uint256 species, string label, int256 confidence);

    constructor(bytes32 modelId_) {
        modelId = modelId_;
    }

    function label(uint256 species) public pure returns (string memory) {
        if (species == 0) return "setosa";
        if (species == 1) return "versicolor";
        return "virginica";
    }

    /// @notice Run the model on one flower and store the species.
    function classify(int256[] calldata featuresE4) external returns (uint256 species) {
        Tensor[] memory out = Lattice.infer(modelId, Lattice.row("x", featuresE4, 4));
        int256[] memory probabilities = Lattice.toInt256(out[0]);
        species = Lattice.argmax(probabilities);
        lastSpecies = species;
        lastLabel = label(species);
        lastConfidence = probabilities[species];
        classifications += 1;
        emit Classified(msg.sender, species, lastLabel, lastConfidence);
    }
}
