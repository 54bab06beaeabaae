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

    /// @notice Blocks per epoch; round e is challenged in epoch e.
    uint256 public constant EPOCH_BLOCKS = 16;
    /// @notice The least stake a pinner registers with and keeps to claim models.
    uint256 public constant MIN_STAKE = 1 ether;
    /// @notice What one round pays in total, in basis points of the pool when the round is first settled (0.1 %).
    uint256 public constant EPOCH_BUDGET_BPS = 10;
    /// @notice Stake slashed per missed or wrong challenge, in basis points of the current stake.
    uint256 public constant SLASH_BPS = 1000;
    /// @notice The most models one pinner may claim.
    uint256 public constant MAX_CLAIMS = 32;
    /// @notice Bytes per leaf of the storage commitment (docs/storage.md).
    uint256 public constant LEAF_SIZE = 1024;
    /// @notice Largest package a model may declare (1 TiB): a verifier fetches and hashes all of it.
    uint64 public constant MAX_SIZE = uint64(1) << 40;

    /// @notice Model state: no info set. Also "no answer" in `answers`.
    uint8 public constant NONE = 0;
    /// @notice Model state: info set, waiting for a verifier.
    uint8 public constant PENDING = 1;
    /// @notice Model state: a verifier found size and commitment as declared; pinners may claim it.
    uint8 public constant VERIFIED = 2;
    /// @notice Model state: a verifier found size or commitment different; final.
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

    /// @notice Accounts that may verify models (the genesis validators).
    /// @dev slot 0, written by `contracts build` into the genesis (no constructor runs)
    mapping(address => bool) public isVerifier;
    /// @notice A model's declared commitment, size, type weight and verification state.
    mapping(bytes32 => ModelInfo) public models;
    /// @notice A pinner's stake, rewards (owed and earned in total), answer counts and settlement progress.
    mapping(address => Pinner) public pinners;
    /// @notice Whether an account ever registered as a pinner.
    mapping(address => bool) public isPinner;
    address[] internal _pinnerList;
    mapping(address => bytes32[]) internal _claims;
    /// @notice pinner => model => first round challenged (0: not claimed)
    mapping(address => mapping(bytes32 => uint256)) public claimedFrom;
    /// @notice epoch => pinner => model => NONE (0), PASSED (1) or FAILED (2)
    mapping(uint256 => mapping(address => mapping(bytes32 => uint8))) public answers;
    /// @notice epoch => model => passing answers
    mapping(uint256 => mapping(bytes32 => uint256)) public passCount;
    /// @notice epoch => the round's total weight and its budget (once fixed)
    mapping(uint256 => Round) public rounds;
    bytes32[] internal _pending;
    mapping(bytes32 => uint256) internal _pendingSlot; // index + 1
    /// @notice The sum of all pinners' stakes (not part of the pool).
    uint256 public totalStake;
    /// @notice The sum of settled rewards not yet withdrawn (not part of the pool).
    uint256 public totalOwed;

    /// @notice A model's owner declared its size and type; the model waits for a verifier.
    /// @param modelId the registry entry
    /// @param size the declared package size in bytes
    /// @param weight the type weight in percent
    /// @param commitment the storage commitment copied from the registry
    /// @param funded wei the call added to the pool
    event ModelInfoSet(bytes32 indexed modelId, uint64 size, uint16 weight, bytes32 commitment, uint256 funded);
    /// @notice A verifier attested a pending model.
    /// @param modelId the registry entry
    /// @param verifier the attesting verifier
    /// @param ok true: verified (both values as declared); false: rejected for good
    /// @param size the size the verifier computed
    /// @param commitment the commitment the verifier computed
    event ModelVerified(bytes32 indexed modelId, address indexed verifier, bool ok, uint64 size, bytes32 commitment);
    /// @notice Plain value sent to the contract joined the pool.
    /// @param from the sender
    /// @param amount wei added
    event Funded(address indexed from, uint256 amount);
    /// @notice A pinner registered or added stake.
    /// @param pinner the pinner
    /// @param stake the pinner's stake after the call
    event Registered(address indexed pinner, uint256 stake);
    /// @notice A pinner claimed a model.
    /// @param pinner the pinner
    /// @param modelId the registry entry
    /// @param fromEpoch the first round that challenges the pinner for it
    event Claimed(address indexed pinner, bytes32 indexed modelId, uint256 fromEpoch);
    /// @notice A pinner answered a round's challenge.
    /// @param pinner the pinner
    /// @param modelId the registry entry
    /// @param epoch the round
    /// @param ok whether the leaf and path matched the commitment
    event Answered(address indexed pinner, bytes32 indexed modelId, uint256 indexed epoch, bool ok);
    /// @notice Settlement credited a passing answer.
    /// @param pinner the pinner
    /// @param modelId the registry entry
    /// @param epoch the round
    /// @param amount wei owed to the pinner
    event Rewarded(address indexed pinner, bytes32 indexed modelId, uint256 indexed epoch, uint256 amount);
    /// @notice Settlement slashed a missed or wrong answer into the pool.
    /// @param pinner the pinner
    /// @param modelId the registry entry
    /// @param epoch the round
    /// @param amount wei of stake slashed
    event Slashed(address indexed pinner, bytes32 indexed modelId, uint256 indexed epoch, uint256 amount);
    /// @notice A pinner withdrew its settled rewards.
    /// @param pinner the pinner
    /// @param amount wei paid
    event Withdrawal(address indexed pinner, uint256 amount);

    /// @notice `setModelInfo` from an account that does not own the registry entry.
    /// @param modelId the registry entry
    error NotModelOwner(bytes32 modelId);
    /// @notice `claim` of a model whose info was never set.
    /// @param modelId the registry entry
    error UnknownModel(bytes32 modelId);
    /// @notice `setModelInfo` with a size of 0 or above MAX_SIZE.
    /// @param size the size given
    /// @param max MAX_SIZE
    error SizeOutOfRange(uint64 size, uint64 max);
    /// @notice `setModelInfo` for a registry entry without a storage commitment.
    /// @param modelId the registry entry
    error NoCommitment(bytes32 modelId);
    /// @notice `attest` from an account that is not a verifier.
    /// @param account the caller
    error NotVerifier(address account);
    /// @notice `attest` of a model that is not waiting for a verifier.
    /// @param modelId the registry entry
    /// @param state its state (NONE, VERIFIED or REJECTED)
    error NotPending(bytes32 modelId, uint8 state);
    /// @notice `claim` of a model that is not verified.
    /// @param modelId the registry entry
    /// @param state its state (PENDING or REJECTED)
    error ModelNotVerified(bytes32 modelId, uint8 state);
    /// @notice A first `register` with less than MIN_STAKE.
    /// @param stake the value sent
    error StakeTooLow(uint256 stake);
    /// @notice `claim` from an account staking less than MIN_STAKE, or `settle` of an account never registered.
    /// @param pinner the account
    error NotRegistered(address pinner);
    /// @notice The pinner claimed this model already.
    /// @param modelId the registry entry
    error AlreadyClaimed(bytes32 modelId);
    /// @notice The pinner holds MAX_CLAIMS claims already.
    error TooManyClaims();
    /// @notice `answer` outside the round's window (its epoch and the next) or for a model the caller had not
    ///         claimed in time for the round.
    /// @param modelId the registry entry
    /// @param epoch the round
    error NoChallenge(bytes32 modelId, uint256 epoch);
    /// @notice The caller answered this round for this model already.
    /// @param modelId the registry entry
    /// @param epoch the round
    error AlreadyAnswered(bytes32 modelId, uint256 epoch);
    /// @notice `settle` through an epoch whose rounds are not all finished.
    /// @param epoch the `throughEpoch` given
    error EpochNotOver(uint256 epoch);
    /// @notice The withdrawal recipient refused the payment; its rewards stay owed.
    error TransferFailed();
    /// @notice The model's info was set already (it is fixed once set).
    /// @param modelId the registry entry
    error InfoAlreadySet(bytes32 modelId);

    /// @notice Type weights in percent (docs/storage.md): llm 150, embedding 120, detector 110, classifier 100,
    ///         raw 50; any other type counts as a classifier.
    /// @param modelType the type name
    /// @return the weight in percent
    function typeWeight(string calldata modelType) public pure returns (uint16) {
        bytes32 t = keccak256(bytes(modelType));
        if (t == keccak256("llm")) return 150;
        if (t == keccak256("embedding")) return 120;
        if (t == keccak256("detector")) return 110;
        if (t == keccak256("raw")) return 50;
        return 100;
    }

    /// @notice The epoch of the current block: block.number / EPOCH_BLOCKS.
    /// @return the epoch
    function currentEpoch() public view returns (uint256) {
        return block.number / EPOCH_BLOCKS;
    }

    /// @notice A model's share weight in a round: ceil(size / 1 MiB) * type weight (size as verified).
    /// @param modelId the registry entry
    /// @return the weight (0 for a model without info)
    function weightOf(bytes32 modelId) public view returns (uint256) {
        ModelInfo memory m = models[modelId];
        return ((uint256(m.size) + (1 << 20) - 1) >> 20) * m.weight;
    }

    /// @notice What the pool can still pay out: the balance minus stakes and unpaid rewards.
    /// @return wei in the pool
    function pool() public view returns (uint256) {
        return address(this).balance - totalStake - totalOwed;
    }

    /// @notice What one passing answer for `modelId` earns in round `epoch`: the round's budget (as fixed, or as
    ///         it would be fixed now) times the model's share of the round's weight, split across its passing
    ///         pinners.
    /// @param epoch the round
    /// @param modelId the registry entry
    /// @return wei per passing answer (0 when none passed)
    function rewardOf(uint256 epoch, bytes32 modelId) public view returns (uint256) {
        Round memory r = rounds[epoch];
        uint256 n = passCount[epoch][modelId];
        if (n == 0 || r.weight == 0) return 0;
        uint256 budget = r.budgetFixed ? r.budget : pool() * EPOCH_BUDGET_BPS / 10_000;
        return budget * weightOf(modelId) / r.weight / n;
    }

    /// @notice Fund the pool with the call's value.
    receive() external payable {
        emit Funded(msg.sender, msg.value);
    }

    /// @notice The model's owner declares the package size and type once (the commitment is copied from the
    ///         registry; fixed from then on, so that claims never see their challenges change) and may fund the
    ///         pool with the call's value. The model waits for a verifier before anyone can claim it.
    /// @dev Reverts UnknownModel (the registry's) for an unregistered id, NotModelOwner, SizeOutOfRange for a size
    ///      of 0 or above MAX_SIZE, NoCommitment, or InfoAlreadySet.
    /// @param modelId the registry entry
    /// @param size the package size in bytes (1..MAX_SIZE), as the commitment covers it
    /// @param modelType llm, embedding, detector, classifier or raw (see `typeWeight`)
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

    /// @notice Models waiting for a verifier.
    /// @return the ids, in no particular order
    function pendingModels() external view returns (bytes32[] memory) {
        return _pending;
    }

    /// @notice A verifier reports the size and commitment it computed from the package bytes (fetched by the
    ///         registry's CID, digest checked). Equal to the declared ones: the model is verified and can be
    ///         claimed; otherwise it is rejected for good (the owner registers a corrected version as a new model).
    /// @dev Reverts NotVerifier or NotPending.
    /// @param modelId the registry entry
    /// @param size the size computed from the bytes
    /// @param commitment the commitment computed from the bytes
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

    /// @notice Register as a pinner with the call's value as stake (at least MIN_STAKE the first time), or add
    ///         stake.
    /// @dev Reverts StakeTooLow for a first registration under MIN_STAKE.
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

    /// @notice Claim a verified model this pinner keeps; its challenges start next round.
    /// @dev Reverts NotRegistered (stake under MIN_STAKE), UnknownModel, ModelNotVerified, AlreadyClaimed or
    ///      TooManyClaims.
    /// @param modelId the registry entry
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

    /// @notice The models a pinner claimed, in claim order.
    /// @param pinner the pinner
    /// @return the ids
    function claims(address pinner) external view returns (bytes32[] memory) {
        return _claims[pinner];
    }

    /// @notice How many accounts ever registered as pinners.
    /// @return the count
    function pinnerCount() external view returns (uint256) {
        return _pinnerList.length;
    }

    /// @notice The `i`-th pinner to register.
    /// @param i the index, below `pinnerCount()`
    /// @return the pinner
    function pinnerAt(uint256 i) external view returns (address) {
        return _pinnerList[i];
    }

    /// @notice Round `epoch`'s seed, 0 before the round opens or once its seed block is older than 256 blocks (by
    ///         then its answer window has long closed).
    /// @param epoch the round
    /// @return keccak256(abi.encode(blockhash(epoch * EPOCH_BLOCKS - 1), epoch)), or bytes32(0)
    function seedOf(uint256 epoch) public view returns (bytes32) {
        if (epoch == 0 || epoch > currentEpoch()) return bytes32(0);
        bytes32 h = blockhash(epoch * EPOCH_BLOCKS - 1);
        if (h == bytes32(0)) return bytes32(0);
        return keccak256(abi.encode(h, epoch));
    }

    /// @notice The current round's seed. Kept for callers of the old interface: nothing is drawn by calling it.
    /// @return seedOf(currentEpoch())
    function seedEpoch() external view returns (bytes32) {
        return seedOf(currentEpoch());
    }

    function _answerable(uint256 epoch) internal view returns (bool) {
        uint256 e = currentEpoch();
        return epoch != 0 && epoch <= e && e <= epoch + 1;
    }

    /// @notice The leaf a pinner must produce for a model in round `epoch`; `open` while the round takes answers
    ///         from this pinner for this model (claimed in time, answer window open, not answered yet).
    /// @param pinner the pinner
    /// @param modelId the registry entry
    /// @param epoch the round
    /// @return open whether an answer would be taken now
    /// @return index the leaf to answer with (0 when the round is not answerable)
    function challengeAt(address pinner, bytes32 modelId, uint256 epoch) public view returns (bool open, uint256 index) {
        uint256 from = claimedFrom[pinner][modelId];
        if (from == 0 || from > epoch || !_answerable(epoch)) return (false, 0);
        index = _leafIndex(seedOf(epoch), pinner, modelId);
        open = answers[epoch][pinner][modelId] == NONE;
    }

    /// @notice The current round's challenge (see `challengeAt`).
    /// @param pinner the pinner
    /// @param modelId the registry entry
    /// @return open whether an answer would be taken now
    /// @return epoch the current epoch
    /// @return index the leaf to answer with
    function challengeOf(address pinner, bytes32 modelId) external view returns (bool open, uint256 epoch, uint256 index) {
        epoch = currentEpoch();
        (open, index) = challengeAt(pinner, modelId, epoch);
    }

    function _leafIndex(bytes32 seed, address pinner, bytes32 modelId) internal view returns (uint256) {
        uint256 leaves = (uint256(models[modelId].size) + LEAF_SIZE - 1) / LEAF_SIZE;
        return uint256(keccak256(abi.encode(seed, pinner, modelId))) % leaves;
    }

    /// @notice Answer round `epoch`'s challenge (in epoch `epoch` or the next; otherwise the call reverts and
    ///         nothing is recorded) with the leaf's bytes and its Merkle path (docs/storage.md commitment). A wrong
    ///         answer is recorded as failed (it does not revert).
    /// @dev Reverts NoChallenge or AlreadyAnswered.
    /// @param epoch the round
    /// @param modelId the registry entry
    /// @param leaf the leaf's bytes (LEAF_SIZE, or the rest of the package for the last leaf)
    /// @param siblings the commitment path, leaf level first
    /// @return ok whether the answer passed
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

    /// @notice Settle a pinner's finished rounds up to `throughEpoch` (exclusive; round e is finished once epoch
    ///         e + 2 has begun), anyone may call: passing answers are paid their share of the round's budget,
    ///         missed and wrong ones slash stake into the pool.
    /// @dev Reverts EpochNotOver or NotRegistered. The first settlement paying from a round fixes its budget.
    /// @param pinner the pinner to settle
    /// @param throughEpoch the first round not to settle
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

    /// @notice Pull payment of the caller's settled rewards.
    /// @dev Reverts TransferFailed when the caller refuses the payment (the rewards stay owed).
    /// @return amount wei paid (0 when nothing is owed)
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
