// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {ModelRegistry} from "./ModelRegistry.sol";

/// @title IPFSIncentives
/// @notice Pays pinners that keep model packages, backed by storage proofs against the registry's commitment
/// (docs/storage.md, "Pinning incentives"). Predeployed at 0xA110000000000000000000000000000000000003; the
/// reward pool is the contract's balance minus stakes and unpaid rewards, funded in genesis and by model owners.
/// @dev Epoch e = blocks [e * EPOCH_BLOCKS, (e + 1) * EPOCH_BLOCKS). A claim made in epoch e is challenged
/// from epoch e + 1 on. Each epoch's seed is keccak256(block.prevrandao, e) of the first block in it that
/// touches the contract (`seedEpoch`, `answer`); a pinner's challenge for a model is one 1 KiB leaf index
/// drawn from it. Answers are checked against the commitment; after the epoch anyone may `settle` a pinner:
/// each passed challenge earns the model's reward, each missed or wrong one forfeits it and slashes stake.
contract IPFSIncentives {
    ModelRegistry internal constant REGISTRY = ModelRegistry(0xA110000000000000000000000000000000000001);

    uint256 public constant EPOCH_BLOCKS = 16;
    uint256 public constant MIN_STAKE = 1 ether;
    /// wei per started MiB of package per epoch, before the type weight
    uint256 public constant RATE_PER_MIB = 0.001 ether;
    /// stake slashed per missed or wrong challenge, in basis points of the current stake
    uint256 public constant SLASH_BPS = 1000;
    uint256 public constant MAX_CLAIMS = 32;
    uint256 public constant LEAF_SIZE = 1024;

    uint8 internal constant NONE = 0;
    uint8 internal constant PASSED = 1;
    uint8 internal constant FAILED = 2;

    struct ModelInfo {
        bytes32 commitment;
        uint64 size;
        uint16 weight; // percent
    }

    struct Pinner {
        uint256 stake;
        uint256 owed;
        uint256 earned;
        uint64 registeredEpoch;
        uint64 passed;
        uint64 failed;
        uint64 settledThrough; // next epoch to settle
    }

    mapping(bytes32 => ModelInfo) public models;
    mapping(address => Pinner) public pinners;
    mapping(address => bool) public isPinner;
    address[] internal _pinnerList;
    mapping(address => bytes32[]) internal _claims;
    /// pinner => model => first epoch challenged (0: not claimed)
    mapping(address => mapping(bytes32 => uint256)) public claimedFrom;
    mapping(uint256 => bytes32) public seeds;
    /// epoch => pinner => model => NONE / PASSED / FAILED
    mapping(uint256 => mapping(address => mapping(bytes32 => uint8))) public answers;
    uint256 public totalStake;
    uint256 public totalOwed;

    event ModelInfoSet(bytes32 indexed modelId, uint64 size, uint16 weight, bytes32 commitment, uint256 funded);
    event Funded(address indexed from, uint256 amount);
    event Registered(address indexed pinner, uint256 stake);
    event Claimed(address indexed pinner, bytes32 indexed modelId, uint256 fromEpoch);
    event Answered(address indexed pinner, bytes32 indexed modelId, uint256 indexed epoch, bool ok);
    event Rewarded(address indexed pinner, bytes32 indexed modelId, uint256 indexed epoch, uint256 amount);
    event Slashed(address indexed pinner, bytes32 indexed modelId, uint256 indexed epoch, uint256 amount);
    event Withdrawal(address indexed pinner, uint256 amount);

    error NotModelOwner(bytes32 modelId);
    error UnknownModel(bytes32 modelId);
    error StakeTooLow(uint256 stake);
    error NotRegistered(address pinner);
    error AlreadyClaimed(bytes32 modelId);
    error TooManyClaims();
    error NoChallenge(bytes32 modelId, uint256 epoch);
    error AlreadyAnswered(bytes32 modelId, uint256 epoch);
    error EpochNotOver(uint256 epoch);
    error TransferFailed();
    error InfoAlreadySet(bytes32 modelId);

    /// Type weights in percent (docs/storage.md): llm 150, embedding 120, detector 110, classifier 100, raw 50.
    function typeWeight(string calldata modelType) public pure returns (uint16) {
        bytes32 t = keccak256(bytes(modelType));
        if (t == keccak256("llm")) return 150;
        if (t == keccak256("embedding")) return 120;
        if (t == keccak256("detector")) return 110;
        if (t == keccak256("raw")) return 50;
        return 100;
    }

    function currentEpoch() public view returns (uint256) {
        return block.number / EPOCH_BLOCKS;
    }

    /// Reward of one passed challenge for a model: ceil(size / 1 MiB) * RATE_PER_MIB * weight / 100.
    function rewardOf(bytes32 modelId) public view returns (uint256) {
        ModelInfo memory m = models[modelId];
        return ((uint256(m.size) + (1 << 20) - 1) >> 20) * RATE_PER_MIB * m.weight / 100;
    }

    /// What the pool can still pay out.
    function pool() public view returns (uint256) {
        return address(this).balance - totalStake - totalOwed;
    }

    receive() external payable {
        emit Funded(msg.sender, msg.value);
    }

    /// The model's owner declares the package size and type once (the commitment is copied from the registry;
    /// fixed from then on, so that claims never see their challenges change) and may fund the pool with the
    /// call's value.
    function setModelInfo(bytes32 modelId, uint64 size, string calldata modelType) external payable {
        ModelRegistry.Model memory m = REGISTRY.getModel(modelId);
        if (m.owner != msg.sender) revert NotModelOwner(modelId);
        if (size == 0) revert UnknownModel(modelId);
        if (models[modelId].size != 0) revert InfoAlreadySet(modelId);
        uint16 w = typeWeight(modelType);
        models[modelId] = ModelInfo({commitment: m.commitment, size: size, weight: w});
        emit ModelInfoSet(modelId, size, w, m.commitment, msg.value);
    }

    function register() external payable {
        Pinner storage p = pinners[msg.sender];
        if (!isPinner[msg.sender]) {
            if (msg.value < MIN_STAKE) revert StakeTooLow(msg.value);
            isPinner[msg.sender] = true;
            _pinnerList.push(msg.sender);
            p.registeredEpoch = uint64(currentEpoch());
            p.settledThrough = uint64(currentEpoch());
        }
        p.stake += msg.value;
        totalStake += msg.value;
        emit Registered(msg.sender, p.stake);
    }

    /// Claim a model this pinner keeps; challenges start next epoch.
    function claim(bytes32 modelId) external {
        if (pinners[msg.sender].stake < MIN_STAKE) revert NotRegistered(msg.sender);
        if (models[modelId].size == 0) revert UnknownModel(modelId);
        if (claimedFrom[msg.sender][modelId] != 0) revert AlreadyClaimed(modelId);
        if (_claims[msg.sender].length >= MAX_CLAIMS) revert TooManyClaims();
        uint256 from = currentEpoch() + 1;
        claimedFrom[msg.sender][modelId] = from;
        _claims[msg.sender].push(modelId);
        emit Claimed(msg.sender, modelId, from);
    }

    function claims(address pinner) external view returns (bytes32[] memory) {
        return _claims[pinner];
    }

    function pinnerCount() external view returns (uint256) {
        return _pinnerList.length;
    }

    function pinnerAt(uint256 i) external view returns (address) {
        return _pinnerList[i];
    }

    /// Fix this epoch's seed from block.prevrandao (the first call in the epoch wins).
    function seedEpoch() public returns (bytes32 seed) {
        uint256 e = currentEpoch();
        seed = seeds[e];
        if (seed == bytes32(0)) {
            seed = keccak256(abi.encode(block.prevrandao, e));
            seeds[e] = seed;
        }
    }

    /// The leaf a pinner must produce for a model this epoch; `open` is false before the seed is drawn,
    /// for a model not (yet) claimed, or once answered.
    function challengeOf(address pinner, bytes32 modelId) public view returns (bool open, uint256 epoch, uint256 index) {
        epoch = currentEpoch();
        uint256 from = claimedFrom[pinner][modelId];
        bytes32 seed = seeds[epoch];
        if (from == 0 || from > epoch || seed == bytes32(0)) return (false, epoch, 0);
        index = _leafIndex(seed, pinner, modelId);
        open = answers[epoch][pinner][modelId] == NONE;
    }

    function _leafIndex(bytes32 seed, address pinner, bytes32 modelId) internal view returns (uint256) {
        uint256 leaves = (uint256(models[modelId].size) + LEAF_SIZE - 1) / LEAF_SIZE;
        return uint256(keccak256(abi.encode(seed, pinner, modelId))) % leaves;
    }

    /// Answer epoch `epoch`'s challenge (it must be the current one, else the call reverts and nothing is
    /// recorded) with the leaf's bytes and its Merkle path (docs/storage.md commitment). A wrong answer is
    /// recorded as failed (it does not revert).
    function answer(uint256 epoch, bytes32 modelId, bytes calldata leaf, bytes32[] calldata siblings)
        external
        returns (bool ok)
    {
        uint256 e = currentEpoch();
        if (epoch != e) revert NoChallenge(modelId, epoch);
        uint256 from = claimedFrom[msg.sender][modelId];
        if (from == 0 || from > e) revert NoChallenge(modelId, e);
        if (answers[e][msg.sender][modelId] != NONE) revert AlreadyAnswered(modelId, e);
        bytes32 seed = seedEpoch();
        ModelInfo memory m = models[modelId];
        uint256 index = _leafIndex(seed, msg.sender, modelId);
        ok = _checkLeaf(m, index, leaf, siblings);
        answers[e][msg.sender][modelId] = ok ? PASSED : FAILED;
        emit Answered(msg.sender, modelId, e, ok);
    }

    function _checkLeaf(ModelInfo memory m, uint256 index, bytes calldata leaf, bytes32[] calldata siblings)
        internal
        pure
        returns (bool)
    {
        uint256 leaves = (uint256(m.size) + LEAF_SIZE - 1) / LEAF_SIZE;
        uint256 want = index + 1 < leaves ? LEAF_SIZE : uint256(m.size) - (leaves - 1) * LEAF_SIZE;
        if (leaf.length != want) return false;
        uint256 depth = 0;
        while ((1 << depth) < leaves) depth++;
        if (siblings.length != depth) return false;
        bytes32 h = keccak256(abi.encodePacked(bytes1(0x00), leaf));
        for (uint256 k = 0; k < depth; k++) {
            h = (index >> k) & 1 == 0
                ? keccak256(abi.encodePacked(bytes1(0x01), h, siblings[k]))
                : keccak256(abi.encodePacked(bytes1(0x01), siblings[k], h));
        }
        return h == m.commitment;
    }

    /// Settle a pinner's finished epochs up to `throughEpoch` (exclusive), anyone may call: passed
    /// challenges are paid from the pool (as far as it goes), missed and wrong ones slash stake into it.
    /// Epochs nobody seeded drew no challenge and count neither way.
    function settle(address pinner, uint256 throughEpoch) external {
        if (throughEpoch > currentEpoch()) revert EpochNotOver(throughEpoch);
        Pinner storage p = pinners[pinner];
        if (!isPinner[pinner]) revert NotRegistered(pinner);
        bytes32[] storage list = _claims[pinner];
        for (uint256 e = p.settledThrough; e < throughEpoch; e++) {
            if (seeds[e] == bytes32(0)) continue;
            for (uint256 i = 0; i < list.length; i++) {
                bytes32 id = list[i];
                uint256 from = claimedFrom[pinner][id];
                if (from > e) continue;
                if (answers[e][pinner][id] == PASSED) {
                    uint256 r = rewardOf(id);
                    uint256 left = pool();
                    if (r > left) r = left;
                    p.owed += r;
                    p.earned += r;
                    totalOwed += r;
                    p.passed++;
                    emit Rewarded(pinner, id, e, r);
                } else {
                    uint256 s = p.stake * SLASH_BPS / 10_000;
                    p.stake -= s;
                    totalStake -= s;
                    p.failed++;
                    emit Slashed(pinner, id, e, s);
                }
            }
        }
        if (throughEpoch > p.settledThrough) p.settledThrough = uint64(throughEpoch);
    }

    /// Pull payment of settled rewards.
    function withdraw() external returns (uint256 amount) {
        Pinner storage p = pinners[msg.sender];
        amount = p.owed;
        p.owed = 0;
        totalOwed -= amount;
        (bool ok,) = msg.sender.call{value: amount}("");
        if (!ok) revert TransferFailed();
        emit Withdrawal(msg.sender, amount);
    }
}
