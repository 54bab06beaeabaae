// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// The contract the Hardhat example deploys with Ignition.
contract Counter {
    uint256 public x;

    event Increment(uint256 by);

    function incBy(uint256 by) public {
        x += by;
        emit Increment(by);
    }
}
