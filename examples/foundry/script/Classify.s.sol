// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Lattice} from "../../../contracts/Lattice.sol";
import {LatticeTest} from "../../../contracts/LatticeTest.sol";
import {IrisClassifier} from "../../contracts/IrisClassifier.sol";

/// @notice Broadcast IrisClassifier.classify to a Lattice node with `forge script`. forge first runs the script in
///         its own EVM, which has no precompile: the node's answer is installed there with vm.mockCall, and
///         --skip-simulation keeps forge from simulating the broadcast again without it (docs/foundry.md).
/// @dev Environment: IRIS_CLASSIFIER (the deployed contract), LATTICE_RPC (the node, for the mock).
contract Classify is LatticeTest {
    address private constant CHEATS = address(uint160(uint256(keccak256("hevm cheat code"))));

    function cheat(bytes memory call) internal returns (bytes memory ret) {
        bool ok;
        (ok, ret) = CHEATS.call(call);
        require(ok, "cheatcode");
    }

    function run() external {
        IrisClassifier c = IrisClassifier(
            abi.decode(cheat(abi.encodeWithSignature("envAddress(string)", "IRIS_CLASSIFIER")), (address))
        );
        string memory rpc = abi.decode(cheat(abi.encodeWithSignature("envString(string)", "LATTICE_RPC")), (string));
        int256[] memory f = new int256[](4);
        f[0] = 63000;
        f[1] = 33000;
        f[2] = 60000;
        f[3] = 25000;
        mockInferenceFromNode(rpc, c.modelId(), Lattice.row("x", f, 4));
        cheat(abi.encodeWithSignature("startBroadcast()"));
        c.classify(f);
        cheat(abi.encodeWithSignature("stopBroadcast()"));
    }
}
