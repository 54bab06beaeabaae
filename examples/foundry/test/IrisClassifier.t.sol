// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Lattice} from "../../../contracts/Lattice.sol";
import {LatticeTest} from "../../../contracts/LatticeTest.sol";
import {IrisClassifier} from "../../contracts/IrisClassifier.sol";

/// @notice IrisClassifier under forge with the real iris model: the precompile's answer comes from the model file
///         (or a node), so classify() sees the outputs the chain would give.
/// @dev Environment: IRIS_MODEL_FILE (default build/models/iris.onnx, written by the recipe in
///      examples/models/README.md), IRIS_MODEL_ID (any id: the mock answers for it), IRIS_EXPECTED_LABEL (default
///      "setosa"), LATTICE_RPC (a devnet with the model deployed under IRIS_MODEL_ID; that test is skipped without it).
contract IrisClassifierTest is LatticeTest {
    address private constant CHEATS = address(uint160(uint256(keccak256("hevm cheat code"))));

    function env(string memory name, string memory fallback_) internal returns (string memory) {
        (bool ok, bytes memory ret) =
            CHEATS.call(abi.encodeWithSignature("envOr(string,string)", name, fallback_));
        require(ok, "envOr");
        return abi.decode(ret, (string));
    }

    function modelId() internal returns (bytes32) {
        (bool ok, bytes memory ret) = CHEATS.call(
            abi.encodeWithSignature("envOr(string,bytes32)", "IRIS_MODEL_ID", bytes32(uint256(0x1215)))
        );
        require(ok, "envOr");
        return abi.decode(ret, (bytes32));
    }

    /// @dev A setosa: sepal 5.1 x 3.5 cm, petal 1.4 x 0.2 cm, 4 decimals.
    function flower() internal pure returns (int256[] memory f) {
        f = new int256[](4);
        f[0] = 51000;
        f[1] = 35000;
        f[2] = 14000;
        f[3] = 2000;
    }

    function check(IrisClassifier c) internal {
        uint256 species = c.classify(flower());
        require(
            keccak256(bytes(c.lastLabel())) == keccak256(bytes(env("IRIS_EXPECTED_LABEL", "setosa"))),
            string.concat("label ", c.lastLabel(), " is not the expected one")
        );
        require(species == 0 || species == 1 || species == 2, "species out of range");
        require(c.lastConfidence() > 5000, "the chosen class should be the likeliest");
    }

    function test_classify_runs_the_model_file() public {
        bytes32 id = modelId();
        IrisClassifier c = new IrisClassifier(id);
        mockInference(env("IRIS_MODEL_FILE", "build/models/iris.onnx"), id, Lattice.row("x", flower(), 4));
        check(c);
    }

    function test_classify_with_the_nodes_answer() public {
        string memory rpc = env("LATTICE_RPC", "");
        if (bytes(rpc).length == 0) return;
        bytes32 id = modelId();
        IrisClassifier c = new IrisClassifier(id);
        mockInferenceFromNode(rpc, id, Lattice.row("x", flower(), 4));
        check(c);
    }
}
