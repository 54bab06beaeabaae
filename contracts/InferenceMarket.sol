// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IInferenceConsumer, IInferenceMarket, Tolerance} from "./IInferenceMarket.sol";
import {ILatticeInference, Tensor} from "./ILatticeInference.sol";
import {ModelRegistry} from "./ModelRegistry.sol";

/// @title InferenceMarket
/// @notice Accelerated inference as bonded claims, settled by re-running the model on the consensus runtime when
///         someone challenges (docs/accelerated.md). Predeployed at 0xA110000000000000000000000000000000000004.
/// @dev No constructor runs for a predeploy: `contracts build` writes the network's settings
///      (`config.lattice.market` in the genesis) into `_challengeWindow`, `_challengeBond` and `_minStake`; a zero
///      there means the default below. Trust rules that the interface does not spell out:
///      - A request is taken only when the market itself may run the model now (the precompile's `estimate`
///        from this contract: active, public or allowing this contract, free, inputs valid). A model the owner
///        deprecates, restricts or prices during a window cannot be re-run: the challenge reverts
///        ConsensusRunFailed, nobody is slashed, the challenger keeps its bond and the claim finalises.
///      - The tolerance and the executor's price are fixed per request (at request and at claim), so neither a
///        model owner nor an executor can change the terms of an open claim.
///      - Callbacks get exactly CALLBACK_GAS (the caller must leave enough for it) and run after the state is
///        settled and the reentrancy lock released, so a consumer may request again from its callback.
///      - An executor slashed once loses its whole stake; its other open claims stay challengeable (the
///        challenger then gets its bond back and nothing more) until it bonds again.
contract InferenceMarket is IInferenceMarket {
    ILatticeInference internal constant INFERENCE = ILatticeInference(0x0000000000000000000000000000000000000a11);
    ModelRegistry internal constant REGISTRY = ModelRegistry(0xA110000000000000000000000000000000000001);

    /// @notice The challenge window, in blocks, of a genesis that sets none.
    uint64 public constant DEFAULT_CHALLENGE_WINDOW = 5;
    /// @notice The challenge bond of a genesis that sets none.
    uint256 public constant DEFAULT_CHALLENGE_BOND = 0.1 ether;
    /// @notice The least stake of a genesis that sets none.
    uint256 public constant DEFAULT_MIN_STAKE = 1 ether;
    /// @notice Gas the consumer's `onInferenceResult` gets: enough to store a small model's outputs; a callback
    ///         that needs more fails (and finalisation goes on without it).
    uint256 public constant CALLBACK_GAS = 1_000_000;
    /// @notice The most `provider` bytes `register` takes.
    uint256 public constant MAX_PROVIDER_BYTES = 32;
    /// @notice The largest `abi.encode(inputs)` a request may have (1 MiB).
    uint256 public constant MAX_INPUT_BYTES = 1 << 20;
    /// @notice The largest `abi.encode(outputs)` a claim may have (256 KiB).
    /// @dev A challenge carries the inputs and the claimed outputs in calldata and copies both, with the consensus
    ///      outputs, in memory (quadratic in size): without a bound an executor could post a claim whose challenge
    ///      would not fit in a block, and lie unchecked. A model whose outputs are larger cannot be served here.
    uint256 public constant MAX_OUTPUT_BYTES = 1 << 18;

    /// @dev Per-request terms fixed when the request and the claim are made (one slot).
    struct Terms {
        uint32 maxUlp;
        uint64 maxAbsE9;
        bool sameArgmax;
        uint128 price; // the claimant's price at claim time
    }

    /// @dev Settings from the genesis (`config.lattice.market`), 0 = default. Written by the storage initialiser
    ///      in src/chain/contracts.ts through solc's storage layout.
    uint64 internal _challengeWindow;
    uint256 internal _challengeBond;
    uint256 internal _minStake;
    /// @dev reentrancy lock (0/1 = free, 2 = held)
    uint256 internal _lock;
    uint256 internal _requestCount;
    mapping(uint256 => Request) internal _requests;
    mapping(uint256 => Terms) internal _terms;
    mapping(address => Executor) internal _executors;
    mapping(bytes32 => Tolerance) internal _tolerances;
    mapping(address => uint256) internal _credit;

    /// @notice `withdraw` paid an account what it was credited.
    /// @param account the account paid
    /// @param amount wei paid
    event Withdrawn(address indexed account, uint256 amount);

    modifier nonReentrant() {
        _enter();
        _;
        _leave();
    }

    function _enter() internal {
        if (_lock == 2) revert Reentrancy();
        _lock = 2;
    }

    function _leave() internal {
        _lock = 1;
    }

    /// @inheritdoc IInferenceMarket
    function register(string calldata provider, uint256 price) external payable nonReentrant {
        uint256 n = bytes(provider).length;
        if (n == 0 || n > MAX_PROVIDER_BYTES) revert InvalidProvider(provider);
        Executor storage e = _executors[msg.sender];
        uint256 stake = e.stake + msg.value;
        uint256 least = minStake();
        if (stake < least) revert StakeTooLow(stake, least);
        e.stake = stake;
        e.price = price;
        e.provider = provider;
        e.active = true;
        emit ExecutorRegistered(msg.sender, provider, stake, price);
    }

    /// @inheritdoc IInferenceMarket
    function exit() external nonReentrant {
        Executor storage e = _executors[msg.sender];
        if (!e.active) revert NotActiveExecutor(msg.sender);
        if (e.openClaims != 0) revert OpenClaims(e.openClaims);
        uint256 stake = e.stake;
        e.stake = 0;
        e.active = false;
        _credit[msg.sender] += stake;
        emit ExecutorExited(msg.sender, stake);
    }

    /// @inheritdoc IInferenceMarket
    function setTolerance(bytes32 modelId, uint32 maxUlp, uint64 maxAbsE9, bool sameArgmax) external nonReentrant {
        // getModel reverts UnknownModel for an id never registered
        if (REGISTRY.getModel(modelId).owner != msg.sender) revert NotModelOwner(modelId, msg.sender);
        _tolerances[modelId] = Tolerance(maxUlp, maxAbsE9, sameArgmax, true);
        emit ToleranceSet(modelId, maxUlp, maxAbsE9, sameArgmax);
    }

    /// @inheritdoc IInferenceMarket
    /// @dev Also reverts ModelNotRunnable when the precompile's `estimate`, called by this contract, refuses the
    ///      model or the inputs: a request taken here can be re-run by a challenge unless the model changes.
    function requestInference(bytes32 modelId, Tensor[] calldata inputs, address callback, uint256 maxFee)
        external
        payable
        nonReentrant
        returns (uint256 requestId)
    {
        Tolerance memory tol = _tolerances[modelId];
        if (!tol.set) revert ToleranceNotSet(modelId);
        if (msg.value != maxFee) revert WrongPayment(maxFee, msg.value);
        if (maxFee > type(uint128).max) revert MaxFeeTooLarge(maxFee);
        bytes memory encoded = abi.encode(inputs);
        if (encoded.length > MAX_INPUT_BYTES) revert InputsTooLarge(encoded.length, MAX_INPUT_BYTES);
        (bool ok, bytes memory reason) =
            address(INFERENCE).staticcall(abi.encodeCall(ILatticeInference.estimate, (modelId, inputs)));
        if (!ok) revert ModelNotRunnable(modelId, reason);

        requestId = ++_requestCount;
        Request storage r = _requests[requestId];
        r.requester = msg.sender;
        r.modelId = modelId;
        r.callback = callback;
        r.maxFee = maxFee;
        r.inputsHash = keccak256(encoded);
        r.requestedAt = uint64(block.number);
        r.status = Status.Requested;
        _terms[requestId] = Terms(tol.maxUlp, tol.maxAbsE9, tol.sameArgmax, 0);
        emit InferenceRequested(requestId, modelId, msg.sender, callback, maxFee, inputs);
    }

    /// @inheritdoc IInferenceMarket
    function cancel(uint256 requestId) external nonReentrant {
        Request storage r = _requests[requestId];
        if (r.status != Status.Requested) revert WrongStatus(requestId, r.status);
        if (msg.sender != r.requester) revert NotRequester(requestId, msg.sender);
        uint64 at = r.requestedAt + challengeWindow();
        if (block.number < at) revert TooEarlyToCancel(requestId, at);
        r.status = Status.Cancelled;
        _credit[msg.sender] += r.maxFee;
        emit RequestCancelled(requestId, msg.sender, r.maxFee);
    }

    /// @inheritdoc IInferenceMarket
    function postClaim(uint256 requestId, Tensor[] calldata outputs, bytes32 outputHash) external nonReentrant {
        Request storage r = _requests[requestId];
        if (r.status != Status.Requested) revert WrongStatus(requestId, r.status);
        Executor storage e = _executors[msg.sender];
        if (!e.active || e.stake < minStake()) revert NotActiveExecutor(msg.sender);
        uint256 price = e.price;
        if (price > r.maxFee) revert PriceAboveMaxFee(price, r.maxFee);
        bytes memory encoded = abi.encode(outputs);
        if (encoded.length > MAX_OUTPUT_BYTES) revert OutputsTooLarge(encoded.length, MAX_OUTPUT_BYTES);
        bytes32 computed = keccak256(encoded);
        if (computed != outputHash) revert OutputHashMismatch(outputHash, computed);

        r.status = Status.Claimed;
        r.executor = msg.sender;
        r.outputHash = outputHash;
        r.claimedAt = uint64(block.number);
        // maxFee < 2^128 (requestInference), so the price fits
        _terms[requestId].price = uint128(price);
        e.claims += 1;
        e.openClaims += 1;
        emit ClaimPosted(requestId, msg.sender, outputHash, r.claimedAt + challengeWindow(), outputs);
    }

    /// @inheritdoc IInferenceMarket
    /// @dev Reverts CallbackGasShort when a callback is set and less than CALLBACK_GAS would reach it: otherwise
    ///      anyone could finalise with just too little gas and make every consumer miss its result.
    function finalize(uint256 requestId, Tensor[] calldata outputs) external {
        _enter();
        Request storage r = _requests[requestId];
        if (r.status != Status.Claimed) revert WrongStatus(requestId, r.status);
        uint64 finalAt = r.claimedAt + challengeWindow();
        if (!r.verified && block.number < finalAt) revert WindowOpen(requestId, finalAt);
        if (keccak256(abi.encode(outputs)) != r.outputHash) revert OutputsMismatch(requestId);

        address executor = r.executor;
        uint256 price = _terms[requestId].price;
        r.status = Status.Finalized;
        _executors[executor].openClaims -= 1;
        _credit[executor] += price;
        if (r.maxFee > price) _credit[r.requester] += r.maxFee - price;
        _leave();
        // settled above: the callback may call back into the market
        bool callbackOk = _callback(r.callback, requestId, outputs);
        emit ClaimFinalized(requestId, executor, price, callbackOk);
    }

    /// @inheritdoc IInferenceMarket
    /// @dev The consensus run and the tolerance check are calls to the precompile from this contract, paid from
    ///      the challenger's gas. A consensus run that fails (model deprecated, made private or priced since the
    ///      request; too little gas) reverts ConsensusRunFailed and settles nothing. A tolerance check that fails
    ///      while the consensus outputs pass against themselves means the claimed tensors are malformed: the
    ///      claim is overturned. An overturned claim's callback gets the consensus outputs (CALLBACK_GAS).
    function challenge(uint256 requestId, Tensor[] calldata inputs, Tensor[] calldata outputs)
        external
        payable
        returns (bool overturned)
    {
        _enter();
        Request storage r = _requests[requestId];
        if (r.status != Status.Claimed) revert WrongStatus(requestId, r.status);
        if (r.verified) revert AlreadyVerified(requestId);
        uint64 finalAt = r.claimedAt + challengeWindow();
        if (block.number >= finalAt) revert WindowClosed(requestId, finalAt);
        uint256 bond = challengeBond();
        if (msg.value != bond) revert WrongBond(bond, msg.value);
        if (keccak256(abi.encode(inputs)) != r.inputsHash) revert InputsMismatch(requestId);
        if (keccak256(abi.encode(outputs)) != r.outputHash) revert OutputsMismatch(requestId);

        Tensor[] memory consensus = _consensusRun(requestId, r.modelId, inputs);
        overturned = !_withinTolerance(requestId, outputs, consensus);
        bytes32 consensusHash = keccak256(abi.encode(consensus));
        address executor = r.executor;
        Executor storage e = _executors[executor];
        if (!overturned) {
            r.verified = true;
            _credit[executor] += msg.value;
            emit ClaimChallenged(requestId, msg.sender, executor, false, consensusHash, 0);
            _leave();
            return false;
        }
        uint256 slashed = e.stake;
        e.stake = 0;
        e.active = false;
        e.slashed += 1;
        e.openClaims -= 1;
        r.status = Status.Overturned;
        r.outputHash = consensusHash;
        _credit[msg.sender] += slashed + msg.value;
        _credit[r.requester] += r.maxFee;
        emit ClaimChallenged(requestId, msg.sender, executor, true, consensusHash, slashed);
        _leave();
        _callback(r.callback, requestId, consensus);
    }

    /// @inheritdoc IInferenceMarket
    function withdraw() external nonReentrant returns (uint256 amount) {
        amount = _credit[msg.sender];
        _credit[msg.sender] = 0;
        (bool ok,) = payable(msg.sender).call{value: amount}("");
        if (!ok) revert TransferFailed();
        emit Withdrawn(msg.sender, amount);
    }

    /// @inheritdoc IInferenceMarket
    function challengeWindow() public view returns (uint64 blocks) {
        blocks = _challengeWindow == 0 ? DEFAULT_CHALLENGE_WINDOW : _challengeWindow;
    }

    /// @inheritdoc IInferenceMarket
    function challengeBond() public view returns (uint256 wei_) {
        wei_ = _challengeBond == 0 ? DEFAULT_CHALLENGE_BOND : _challengeBond;
    }

    /// @inheritdoc IInferenceMarket
    function minStake() public view returns (uint256 wei_) {
        wei_ = _minStake == 0 ? DEFAULT_MIN_STAKE : _minStake;
    }

    /// @inheritdoc IInferenceMarket
    function requestCount() external view returns (uint256) {
        return _requestCount;
    }

    /// @inheritdoc IInferenceMarket
    function getRequest(uint256 requestId) external view returns (Request memory) {
        return _requests[requestId];
    }

    /// @inheritdoc IInferenceMarket
    function getExecutor(address executor) external view returns (Executor memory) {
        return _executors[executor];
    }

    /// @inheritdoc IInferenceMarket
    function getTolerance(bytes32 modelId) external view returns (Tolerance memory) {
        return _tolerances[modelId];
    }

    /// @inheritdoc IInferenceMarket
    function credit(address account) external view returns (uint256) {
        return _credit[account];
    }

    /// @dev The model's outputs on the consensus runtime, or revert ConsensusRunFailed (never a slash without them).
    function _consensusRun(uint256 requestId, bytes32 modelId, Tensor[] calldata inputs)
        internal
        returns (Tensor[] memory)
    {
        (bool ok, bytes memory ret) =
            address(INFERENCE).call(abi.encodeCall(ILatticeInference.infer, (modelId, inputs)));
        if (!ok) revert ConsensusRunFailed(requestId, ret);
        return abi.decode(ret, (Tensor[]));
    }

    /// @dev Whether the claimed outputs are within the request's tolerance of the consensus outputs. When the
    ///      check fails, the consensus outputs are compared with themselves: if that passes, the precompile works
    ///      and the claimed tensors are malformed (false, the claim is wrong); if it fails too (out of gas, a
    ///      profile without `withinTolerance`), nothing can be judged and the challenge reverts.
    function _withinTolerance(uint256 requestId, Tensor[] calldata claimed, Tensor[] memory consensus)
        internal
        view
        returns (bool)
    {
        Terms memory t = _terms[requestId];
        (bool ok, bytes memory ret) = address(INFERENCE).staticcall(
            abi.encodeCall(ILatticeInference.withinTolerance, (claimed, consensus, t.maxUlp, t.maxAbsE9, t.sameArgmax))
        );
        if (ok) {
            (bool within,,) = abi.decode(ret, (bool, uint256, uint256));
            return within;
        }
        (ok,) = address(INFERENCE).staticcall(
            abi.encodeCall(ILatticeInference.withinTolerance, (consensus, consensus, 0, 0, false))
        );
        if (!ok) revert ToleranceCheckFailed(requestId);
        return false;
    }

    /// @dev Hand `outputs` to the consumer with exactly CALLBACK_GAS, ignoring what it returns or how it fails.
    ///      Assembly so that a huge return or revert payload is never copied into memory.
    function _callback(address callback, uint256 requestId, Tensor[] memory outputs) internal returns (bool ok) {
        if (callback == address(0)) return true;
        if (callback.code.length == 0) return false;
        bytes memory data = abi.encodeCall(IInferenceConsumer.onInferenceResult, (requestId, outputs));
        // EIP-150 passes at most 63/64 of what is left; 10,000 covers the call's own cost
        uint256 needed = (CALLBACK_GAS * 64) / 63 + 10_000;
        if (gasleft() < needed) revert CallbackGasShort(needed, gasleft());
        uint256 stipend = CALLBACK_GAS;
        assembly ("memory-safe") {
            ok := call(stipend, callback, 0, add(data, 32), mload(data), 0, 0)
        }
    }
}
