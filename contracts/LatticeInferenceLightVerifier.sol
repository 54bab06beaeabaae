// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {InferenceMerkle} from "./InferenceMerkle.sol";

/// @title LatticeInferenceLightVerifier
/// @notice Checks a Lattice inference on any EVM chain: `threshold` of a fixed validator set signed (EIP-712)
/// the block's inference root, and the record's Merkle path reaches that root (docs/proofs.md).
contract LatticeInferenceLightVerifier {
    struct Record {
        uint256 chainId;
        uint256 blockNumber;
        bytes32 txHash;
        uint256 index;
        bytes32 modelId;
        bytes32 inputHash;
        bytes32 outputHash;
        uint256 flops;
    }

    bytes32 public constant DOMAIN_TYPEHASH = keccak256("EIP712Domain(string name,string version,uint256 chainId)");
    bytes32 public constant INFERENCE_ROOT_TYPEHASH =
        keccak256("InferenceRoot(uint256 chainId,uint256 blockNumber,bytes32 blockHash,bytes32 inferenceRoot)");
    /// secp256k1n / 2: signatures with a larger s are malleable copies and are refused.
    uint256 internal constant HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;

    /// The Lattice chain whose validators this contract trusts.
    uint256 public immutable latticeChainId;
    bytes32 public immutable domainSeparator;
    uint256 public immutable threshold;
    mapping(address => bool) public isValidator;
    address[] internal _validators;

    error BadValidatorSet();

    constructor(uint256 latticeChainId_, address[] memory validators_, uint256 threshold_) {
        if (threshold_ == 0 || threshold_ > validators_.length) revert BadValidatorSet();
        for (uint256 i = 0; i < validators_.length; i++) {
            address v = validators_[i];
            if (v == address(0) || isValidator[v]) revert BadValidatorSet();
            isValidator[v] = true;
            _validators.push(v);
        }
        latticeChainId = latticeChainId_;
        threshold = threshold_;
        domainSeparator = keccak256(
            abi.encode(DOMAIN_TYPEHASH, keccak256("Lattice"), keccak256("1"), latticeChainId_)
        );
    }

    function validators() external view returns (address[] memory) {
        return _validators;
    }

    /// The EIP-712 digest validators sign for a block.
    function rootDigest(uint256 blockNumber, bytes32 blockHash, bytes32 root) public view returns (bytes32) {
        bytes32 s = keccak256(abi.encode(INFERENCE_ROOT_TYPEHASH, latticeChainId, blockNumber, blockHash, root));
        return keccak256(abi.encodePacked(hex"1901", domainSeparator, s));
    }

    /// Whether `r` happened on the Lattice chain: `signatures` (65 bytes each, signers in strictly increasing
    /// address order) carry at least `threshold` validators' approval of (blockNumber, blockHash, root), and
    /// `proof` leads from the record's leaf to `root`.
    function verifyInference(
        Record calldata r,
        bytes32[] calldata proof,
        bytes32 blockHash,
        bytes32 root,
        bytes[] calldata signatures
    ) external view returns (bool) {
        if (r.chainId != latticeChainId) return false;
        if (!_quorum(rootDigest(r.blockNumber, blockHash, root), signatures)) return false;
        return InferenceMerkle.processProof(keccak256(abi.encode(r)), proof) == root;
    }

    function _quorum(bytes32 digest, bytes[] calldata signatures) internal view returns (bool) {
        uint256 valid = 0;
        address last = address(0);
        for (uint256 i = 0; i < signatures.length; i++) {
            bytes calldata sig = signatures[i];
            if (sig.length != 65) return false;
            bytes32 r;
            bytes32 s;
            uint8 v;
            assembly ("memory-safe") {
                r := calldataload(sig.offset)
                s := calldataload(add(sig.offset, 32))
                v := byte(0, calldataload(add(sig.offset, 64)))
            }
            if (uint256(s) > HALF_N || (v != 27 && v != 28)) return false;
            address signer = ecrecover(digest, v, r, s);
            // increasing order: no validator counts twice
            if (signer <= last) return false;
            last = signer;
            if (isValidator[signer]) valid++;
        }
        return valid >= threshold;
    }
}
