// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {ModelRegistry} from "./ModelRegistry.sol";

/// @title IPFSIncentives
/// @notice Pays pinners that keep model packages, backed by storage proofs against the registry's commitment
/// (docs/storage.md, "Pinning incentives"). Predeployed at 0xA110000000000000000000000000000000000003; the
/// reward pool is the contract's balance minus stakes and unpaid rewards, funded in genesis and by model owners.
/// @dev Three rules carry the economics (docs/storage.md has the threat model):
/// - A model earns only once a verifier (a genesis validator, written into `isVerifier` by `contracts build`)
///   has fetched its package, recomputed size and commitment from the bytes and found both equal to what the
///   owner declared. A self-chosen commitment or size is rejected; an unverified model cannot be claimed.
/// - Round e's challenges all pay from one budget: EPOCH_BUDGET_BPS of the pool, split across the models that
///   passed in proportion to their verified size (times the type weight), and each model's share split across
///   its passing pinners. No declared number can raise what a round pays.
/// - Round e's seed is keccak256(blockhash(e * EPOCH_BLOCKS - 1), e): fixed by the block that closes epoch e - 1,
///   never by whoever calls first or last. Answers for round e are accepted in epochs e and e + 1, so a pinner
///   has at least a whole epoch after it first sees its challenge; round e settles from epoch e + 2 on.
contract IPFSIncentives {
    ModelRegistry internal constant REGISTRY = ModelRegistry(0xA110000000000000000000000000000000000001);

    uint256 public constant EPOCH_BLOCKS = 16;
    uint256 public constant MIN_STAKE = 1 ether;
    /// what one round pays in total, in basis points of the pool when the round is first settled (0.1 %)
    uint256 public constant EPOCH_BUDGET_BPS = 10;
    /// stake slashed per missed or wrong challenge, in basis points of the current stake
    uint256 public constant SLASH_BPS = 1000;
    uint256 public constant MAX_CLAIMS = 32;
    uint256 public constant LEAF_SIZE = 1024;
    /// largest package a model may declare (1 TiB): a verifier fetches and hashes all of it
    uint64 public constant MAX_SIZE = uint64(1) << 40;

    uint8 public constant NONE = 0;
    uint8 public constant PENDING = 1;
    uint8 public constant VERIFIED = 2;
    uint8 public constant REJECTED = 3;

    uint8 internal constant PASSED = 1;
    uint8 internal constant FAILED = 2;

    struct ModelInfo {
        bytes32 commitment;
        uint64 size;
        uint16 weight; // type weight, percent
        uint8 state; // PENDING, VERIFIED or REJECTED
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

    struct Round {
        uint256 weight; // sum of weightOf(m) over the models with a passing answer in this round
        uint256 budget; // fixed by the first settlement that pays from this round
        bool budgetFixed;
    }

    /// @dev slot 0: accounts that may verify models (the genesis validators; no constructor runs)
    mapping(address => bool) public isVerifier;
    mapping(bytes32 => ModelInfo) public models;
    mapping(address => Pinner) public pinners;
    mapping(address => bool) public isPinner;
    address[] internal _pinnerList;
    mapping(address => bytes32[]) internal _claims;
    /// pinner => model => first round challenged (0: not claimed)
    mapping(address => mapping(bytes32 => uint256)) public claimedFrom;
    /// epoch => pinner => model => NONE / PASSED / FAILED
    mapping(uint256 => mapping(address => mapping(bytes32 => uint8))) public answers;
    /// epoch => model => passing answers
    mapping(uint256 => mapping(bytes32 => uint256)) public passCount;
    mapping(uint256 => Round) public rounds;
    bytes32[] internal _pending;
    mapping(bytes32 => uint256) internal _pendingSlot; // index + 1
    uint256 public totalStake;
    uint256 public totalOwed;

    event ModelInfoSet(bytes32 indexed modelId, uint64 size, uint16 weight, bytes32 commitment, uint256 funded);
    event ModelVerified(bytes32 indexed modelId, address indexed verifier, bool ok, uint64 size, bytes32 commitment);
    event Funded(address indexed from, uint256 amount);
    event Registered(address indexed pinner, uint256 stake);
    event Claimed(address indexed pinner, bytes32 indexed modelId, uint256 fromEpoch);
    event Answered(address indexed pinner, bytes32 indexed modelId, uint256 indexed epoch, bool ok);
    event Rewarded(address indexed pinner, bytes32 indexed modelId, uint256 indexed epoch, uint256 amount);
    event Slashed(address indexed pinner, bytes32 indexed modelId, uint256 indexed epoch, uint256 amount);
    event Withdrawal(address indexed pinner, uint256 amount);

    error NotModelOwner(bytes32 modelId);
    error UnknownModel(bytes32 modelId);
    error SizeOutOfRange(uint64 size, uint64 max);
    error NoCommitment(bytes32 modelId);
    error NotVerifier(address account);
    error NotPending(bytes32 modelId, uint8 state);
    error ModelNotVerified(bytes32 modelId, uint8 state);
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

    /// A model's share weight in a round: ceil(size / 1 MiB) * type weight (size as verified).
    function weightOf(bytes32 modelId) public view returns (uint256) {
        ModelInfo memory m = models[modelId];
        return ((uint256(m.size) + (1 << 20) - 1) >> 20) * m.weight;
    }

    /// What the pool can still pay out.
    function pool() public view returns (uint256) {
        return address(this).balance - totalStake - totalOwed;
    }

    /// What one passing answer for `modelId` earns in round `epoch`: the round's budget (as fixed, or as it
    /// would be fixed now) times the model's share of the round's weight, split across its passing pinners.
    function rewardOf(uint256 epoch, bytes32 modelId) public view returns (uint256) {
        Round memory r = rounds[epoch];
        uint256 n = passCount[epoch][modelId];
        if (n == 0 || r.weight == 0) return 0;
        uint256 budget = r.budgetFixed ? r.budget : pool() * EPOCH_BUDGET_BPS / 10_000;
        return budget * weightOf(modelId) / r.weight / n;
    }

    receive() external payable {
        emit Funded(msg.sender, msg.value);
    }

    /// The model's owner declares the package size and type once (the commitment is copied from the registry;
    /// fixed from then on, so that claims never see their challenges change) and may fund the pool with the
    /// call's value. The model waits for a verifier before anyone can claim it.
    function setModelInfo(bytes32 modelId, uint64 size, string calldata modelType) external payable {
        ModelRegistry.Model memory m = REGISTRY.getModel(modelId);
        if (m.owner != msg.sender) revert NotModelOwner(modelId);
        if (size == 0 || size > MAX_SIZE) revert SizeOutOfRange(size, MAX_SIZE);
        if (m.commitment == bytes32(0)) revert NoCommitment(modelId);
        if (models[modelId].state != NONE) revert InfoAlreadySet(modelId);
        uint16 w = typeWeight(modelType);
        models[modelId] = ModelInfo({commitment: m.commitment, size: size, weight: w, state: PENDING});
        _pending.push(modelId);
        _pendingSlot[modelId] = _pending.length;
        emit ModelInfoSet(modelId, size, w, m.commitment, msg.value);
    }

    /// Models waiting for a verifier.
    function pendingModels() external view returns (bytes32[] memory) {
        return _pending;
    }

    /// A verifier reports the size and commitment it computed from the package bytes (fetched by the registry's
    /// CID, digest checked). Equal to the declared ones: the model is verified and can be claimed; otherwise it is
    /// rejected for good (the owner registers a corrected version as a new model).
    function attest(bytes32 modelId, uint64 size, bytes32 commitment) external {
        if (!isVerifier[msg.sender]) revert NotVerifier(msg.sender);
        ModelInfo storage m = models[modelId];
        if (m.state != PENDING) revert NotPending(modelId, m.state);
        bool ok = size == m.size && commitment == m.commitment;
        m.state = ok ? VERIFIED : REJECTED;
        uint256 slot = _pendingSlot[modelId];
        bytes32 last = _pending[_pending.length - 1];
        _pending[slot - 1] = last;
        _pendingSlot[last] = slot;
        _pending.pop();
        delete _pendingSlot[modelId];
        emit ModelVerified(modelId, msg.sender, ok, size, commitment);
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

    /// Claim a verified model this pinner keeps; its challenges start next round.
    function claim(bytes32 modelId) external {
        if (pinners[msg.sender].stake < MIN_STAKE) revert NotRegistered(msg.sender);
        uint8 state = models[modelId].state;
        if (state == NONE) revert UnknownModel(modelId);
        if (state != VERIFIED) revert ModelNotVerified(modelId, state);
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

    /// Round `epoch`'s seed, 0 before the round opens or once its seed block is older than 256 blocks (by then
    /// its answer window has long closed).
    function seedOf(uint256 epoch) public view returns (bytes32) {
        if (epoch == 0 || epoch > currentEpoch()) return bytes32(0);
        bytes32 h = blockhash(epoch * EPOCH_BLOCKS - 1);
        if (h == bytes32(0)) return bytes32(0);
        return keccak256(abi.encode(h, epoch));
    }

    /// The current round's seed. Kept for callers of the old interface: nothing is drawn by calling it.
    function seedEpoch() external view returns (bytes32) {
        return seedOf(currentEpoch());
    }

    function _answerable(uint256 epoch) internal view returns (bool) {
        uint256 e = currentEpoch();
        return epoch != 0 && epoch <= e && e <= epoch + 1;
    }

    /// The leaf a pinner must produce for a model in round `epoch`; `open` while the round takes answers from
    /// this pinner for this model (claimed in time, answer window open, not answered yet).
    function challengeAt(address pinner, bytes32 modelId, uint256 epoch) public view returns (bool open, uint256 index) {
        uint256 from = claimedFrom[pinner][modelId];
        if (from == 0 || from > epoch || !_answerable(epoch)) return (false, 0);
        index = _leafIndex(seedOf(epoch), pinner, modelId);
        open = answers[epoch][pinner][modelId] == NONE;
    }

    /// The current round's challenge (see `challengeAt`).
    function challengeOf(address pinner, bytes32 modelId) external view returns (bool open, uint256 epoch, uint256 index) {
        epoch = currentEpoch();
        (open, index) = challengeAt(pinner, modelId, epoch);
    }

    function _leafIndex(bytes32 seed, address pinner, bytes32 modelId) internal view returns (uint256) {
        uint256 leaves = (uint256(models[modelId].size) + LEAF_SIZE - 1) / LEAF_SIZE;
        return uint256(keccak256(abi.encode(seed, pinner, modelId))) % leaves;
    }

    /// Answer round `epoch`'s challenge (in epoch `epoch` or the next; otherwise the call reverts and nothing is
    /// recorded) with the leaf's bytes and its Merkle path (docs/storage.md commitment). A wrong answer is
    /// recorded as failed (it does not revert).
    function answer(uint256 epoch, bytes32 modelId, bytes calldata leaf, bytes32[] calldata siblings)
        external
        returns (bool ok)
    {
        if (!_answerable(epoch)) revert NoChallenge(modelId, epoch);
        uint256 from = claimedFrom[msg.sender][modelId];
        if (from == 0 || from > epoch) revert NoChallenge(modelId, epoch);
        if (answers[epoch][msg.sender][modelId] != NONE) revert AlreadyAnswered(modelId, epoch);
        ModelInfo memory m = models[modelId];
        uint256 index = _leafIndex(seedOf(epoch), msg.sender, modelId);
        ok = _checkLeaf(m, index, leaf, siblings);
        answers[epoch][msg.sender][modelId] = ok ? PASSED : FAILED;
        if (ok && passCount[epoch][modelId]++ == 0) rounds[epoch].weight += weightOf(modelId);
        emit Answered(msg.sender, modelId, epoch, ok);
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

    /// Settle a pinner's finished rounds up to `throughEpoch` (exclusive; round e is finished once epoch e + 2
    /// has begun), anyone may call: passing answers are paid their share of the round's budget, missed and
    /// wrong ones slash stake into the pool.
    function settle(address pinner, uint256 throughEpoch) external {
        if (throughEpoch + 1 > currentEpoch()) revert EpochNotOver(throughEpoch);
        Pinner storage p = pinners[pinner];
        if (!isPinner[pinner]) revert NotRegistered(pinner);
        bytes32[] storage list = _claims[pinner];
        for (uint256 e = p.settledThrough; e < throughEpoch; e++) {
            for (uint256 i = 0; i < list.length; i++) {
                bytes32 id = list[i];
                uint256 from = claimedFrom[pinner][id];
                if (from > e || e == 0) continue;
                if (answers[e][pinner][id] == PASSED) {
                    Round storage r = rounds[e];
                    if (!r.budgetFixed) {
                        r.budget = pool() * EPOCH_BUDGET_BPS / 10_000;
                        r.budgetFixed = true;
                    }
                    uint256 amount = r.budget * weightOf(id) / r.weight / passCount[e][id];
                    uint256 left = pool();
                    if (amount > left) amount = left;
                    p.owed += amount;
                    p.earned += amount;
                    totalOwed += amount;
                    p.passed++;
                    emit Rewarded(pinner, id, e, amount);
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
