// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {InferenceMerkle, Record} from "./InferenceMerkle.sol";

/// @title LatticeInferenceLightVerifier
/// @notice Checks a Lattice inference on any EVM chain: `threshold` of a fixed validator set signed (EIP-712)
/// the block's inference root, and the record's Merkle path reaches that root (docs/proofs.md).
contract LatticeInferenceLightVerifier {
    /// @notice EIP-712 domain type hash (name "Lattice", version "1", the Lattice chain id).
    bytes32 public constant DOMAIN_TYPEHASH = keccak256("EIP712Domain(string name,string version,uint256 chainId)");
    /// @notice EIP-712 type hash of the message validators sign for a block.
    bytes32 public constant INFERENCE_ROOT_TYPEHASH =
        keccak256("InferenceRoot(uint256 chainId,uint256 blockNumber,bytes32 blockHash,bytes32 inferenceRoot)");
    /// secp256k1n / 2: signatures with a larger s are malleable copies and are refused.
    uint256 internal constant HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;

    /// @notice The Lattice chain whose validators this contract trusts.
    uint256 public immutable latticeChainId;
    /// @notice The EIP-712 domain separator of `latticeChainId`.
    bytes32 public immutable domainSeparator;
    /// @notice How many distinct validators' signatures a root needs.
    uint256 public immutable threshold;
    /// @notice Whether an address is one of the trusted validators.
    mapping(address => bool) public isValidator;
    address[] internal _validators;

    /// @notice The constructor's validator set is unusable: threshold 0 or above the set's size, a zero address, or
    ///         an address listed twice.
    error BadValidatorSet();

    /// @notice Trust `threshold_` of `validators_` on chain `latticeChainId_`; the set is fixed for good.
    /// @dev Reverts BadValidatorSet when threshold_ is 0 or above the set's size, or a validator is zero or repeated.
    /// @param latticeChainId_ the Lattice chain id records and signatures must carry
    /// @param validators_ the validator addresses (any order)
    /// @param threshold_ how many of them must sign a root
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

    /// @notice The trusted validators, in the order the constructor got them.
    /// @return the validator addresses
    function validators() external view returns (address[] memory) {
        return _validators;
    }

    /// @notice The EIP-712 digest validators sign for a block.
    /// @param blockNumber the Lattice block number
    /// @param blockHash the Lattice block hash
    /// @param root the block's inference root
    /// @return the digest an ecrecover of each signature is checked against
    function rootDigest(uint256 blockNumber, bytes32 blockHash, bytes32 root) public view returns (bytes32) {
        bytes32 s = keccak256(abi.encode(INFERENCE_ROOT_TYPEHASH, latticeChainId, blockNumber, blockHash, root));
        return keccak256(abi.encodePacked(hex"1901", domainSeparator, s));
    }

    /// @notice Whether `r` happened on the Lattice chain: `signatures` carry at least `threshold` validators'
    ///         approval of (r.blockNumber, blockHash, root), and `proof` leads from the record's leaf to `root`.
    /// @dev False (never a revert) on any failure. Signatures must be 65 bytes (r, s, v) with low s and v 27 or 28,
    ///      their signers in strictly increasing address order (so none counts twice); non-validators are ignored.
    /// @param r the record, as `lattice_getInferenceProof` returns it
    /// @param proof the sibling hashes from the record's leaf to `root`
    /// @param blockHash the hash of Lattice block r.blockNumber
    /// @param root the block's inference root
    /// @param signatures the validators' EIP-712 signatures of `rootDigest(r.blockNumber, blockHash, root)`
    /// @return true when the record is proven
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

    /// @dev Whether at least `threshold` distinct validators signed `digest`; false on any malformed signature.
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
