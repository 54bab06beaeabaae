// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Tensor} from "./ILatticeInference.sol";

/// @notice How far an accelerated result may be from the consensus runtime's and still count as correct.
/// @dev Shapes, dtypes, output names and integer elements must match exactly. A float element (float32, float16)
///      is within tolerance when its distance in units in the last place is at most `maxUlp` OR its absolute
///      difference is at most `maxAbsE9 * 1e-9`; NaN matches only NaN, an infinity only the same infinity.
///      Fixed-point outputs (dtype 128 + decimals) compare as integers: `maxUlp` counts steps of 10^-decimals.
///      With `sameArgmax` only the index of the largest element along each output's last axis must agree
///      (first index on ties), for classifiers. `set` is false for a model without a registered tolerance:
///      such a model cannot be requested through the market.
struct Tolerance {
    uint32 maxUlp;
    uint64 maxAbsE9;
    bool sameArgmax;
    bool set;
}

/// @notice A contract that receives the outputs of its asynchronous inference requests.
interface IInferenceConsumer {
    /// @notice Called once per request, with the final outputs: the executor's after the challenge window, or
    ///         the consensus runtime's when a challenge proved the claim wrong.
    /// @param requestId the id `requestInference` returned
    /// @param outputs the model's outputs (docs/tensors.md)
    function onInferenceResult(uint256 requestId, Tensor[] calldata outputs) external;
}

/// @notice Accelerated inference as bonded claims (docs/accelerated.md). Predeployed in genesis at
///         0xA110000000000000000000000000000000000004.
/// @dev Executors bond a stake and answer requests from hardware whose bits may differ from the consensus
///      runtime's (CoreML, CUDA, WebGPU). A claim becomes final after `challengeWindow()` blocks. Anyone may
///      challenge it inside the window with `challengeBond()`: the market re-runs the inference on the consensus
///      runtime through the precompile at 0x0A11 (the challenger pays that gas) and compares with the model's
///      tolerance. A wrong claim: the executor's whole stake goes to the challenger (with its bond back), the fee
///      goes back to the requester, and the callback gets the consensus outputs at once. A claim within
///      tolerance: the challenger's bond goes to the executor and the claim may be finalised at once.
///      Payments are pulled with `withdraw()`.
interface IInferenceMarket {
    enum Status {
        None,
        Requested,
        Claimed,
        Finalized,
        Overturned,
        Cancelled // appended: a request nobody claimed within a window, taken back by its requester
    }

    struct Request {
        address requester;
        bytes32 modelId;
        address callback; // address(0): no callback, the outputs are in the ClaimPosted/… events
        uint256 maxFee; // wei, paid in with the request
        bytes32 inputsHash; // keccak256(abi.encode(inputs))
        uint64 requestedAt; // block number
        Status status;
        address executor; // the claimant, once claimed
        bytes32 outputHash; // keccak256(abi.encode(outputs)) of the claim (or of the consensus outputs once overturned)
        uint64 claimedAt; // block number of the claim
        bool verified; // a challenge found the claim within tolerance
    }

    struct Executor {
        uint256 stake; // wei bonded
        uint256 price; // wei asked per request; a request with a smaller maxFee is not theirs to claim
        string provider; // "cpu" | "cuda" | "coreml" | "webgpu": what the executor said it runs on
        uint64 claims; // claims posted
        uint64 openClaims; // claims not yet final or overturned (exit waits for 0)
        uint64 slashed; // claims overturned by a challenge
        bool active;
    }

    /// @notice An executor bonded stake or changed its provider and price.
    /// @param executor the executor
    /// @param provider what it said it runs on
    /// @param stake its whole stake after the call
    /// @param price wei it asks per request
    event ExecutorRegistered(address indexed executor, string provider, uint256 stake, uint256 price);
    /// @notice An executor stopped; its stake is credited for `withdraw()`.
    /// @param executor the executor
    /// @param stake wei credited
    event ExecutorExited(address indexed executor, uint256 stake);
    /// @notice A model's owner set its tolerance (requests made from now on use it).
    /// @param modelId the model
    /// @param maxUlp float elements within this many units in the last place pass
    /// @param maxAbsE9 float elements within maxAbsE9 * 1e-9 pass
    /// @param sameArgmax only the argmax along each output's last axis must agree
    event ToleranceSet(bytes32 indexed modelId, uint32 maxUlp, uint64 maxAbsE9, bool sameArgmax);
    /// @notice A request waits for an executor's claim.
    /// @param requestId the request's id
    /// @param modelId the model to run
    /// @param requester the account that asked (credited the unspent fee)
    /// @param callback the consumer called with the final outputs (address(0): none)
    /// @param maxFee wei paid in; the most the executor gets
    /// @param inputs the model's inputs
    event InferenceRequested(
        uint256 indexed requestId,
        bytes32 indexed modelId,
        address indexed requester,
        address callback,
        uint256 maxFee,
        Tensor[] inputs
    );
    /// @notice An executor claimed a request's outputs.
    /// @param requestId the request
    /// @param executor the claimant
    /// @param outputHash keccak256(abi.encode(outputs))
    /// @param finalAtBlock the first block at which the claim may be finalised (challenges before it)
    /// @param outputs the claimed outputs
    event ClaimPosted(
        uint256 indexed requestId, address indexed executor, bytes32 outputHash, uint64 finalAtBlock, Tensor[] outputs
    );
    /// @notice A claim became final: fee credited, callback run.
    /// @param requestId the request
    /// @param executor the claimant
    /// @param fee wei credited to the executor (its price at claim time)
    /// @param callbackOk false when the callback reverted, ran out of its gas or has no code
    event ClaimFinalized(uint256 indexed requestId, address indexed executor, uint256 fee, bool callbackOk);
    /// @notice The requester took back a request nobody claimed.
    /// @param requestId the request
    /// @param requester the requester, credited the whole maxFee
    /// @param refund wei credited
    event RequestCancelled(uint256 indexed requestId, address indexed requester, uint256 refund);
    /// @notice A challenge was settled by the consensus runtime.
    /// @param requestId the request
    /// @param challenger the account that challenged
    /// @param executor the claimant
    /// @param overturned true when the claim was outside the model's tolerance
    /// @param consensusOutputHash keccak256(abi.encode(consensus outputs))
    /// @param slashed wei of the executor's stake credited to the challenger (0 when not overturned)
    event ClaimChallenged(
        uint256 indexed requestId,
        address indexed challenger,
        address indexed executor,
        bool overturned,
        bytes32 consensusOutputHash,
        uint256 slashed
    );

    /// @notice A state-changing function entered while another is running.
    error Reentrancy();
    /// @notice `provider` is empty or longer than 32 bytes.
    /// @param provider the provider given
    error InvalidProvider(string provider);
    /// @notice The executor's stake after `register` would be below `minStake()`.
    /// @param stake the stake it would have
    /// @param minStake the least stake
    error StakeTooLow(uint256 stake, uint256 minStake);
    /// @notice The caller is not an active executor (never registered, exited, or slashed).
    /// @param account the caller
    error NotActiveExecutor(address account);
    /// @notice `exit` while claims of the executor are not yet final or overturned.
    /// @param openClaims how many are open
    error OpenClaims(uint64 openClaims);
    /// @notice `setTolerance` by an account that does not own the model in ModelRegistry.
    /// @param modelId the model
    /// @param caller the caller
    error NotModelOwner(bytes32 modelId, address caller);
    /// @notice `requestInference` for a model without a tolerance (`setTolerance` first).
    /// @param modelId the model
    error ToleranceNotSet(bytes32 modelId);
    /// @notice `requestInference` whose `msg.value` is not `maxFee`.
    /// @param maxFee the fee asked for
    /// @param paid the value sent
    error WrongPayment(uint256 maxFee, uint256 paid);
    /// @notice A maxFee above 2^128 - 1 wei (more than any chain holds; prices are kept in 128 bits).
    /// @param maxFee the fee asked for
    error MaxFeeTooLarge(uint256 maxFee);
    /// @notice The market may not run the model on these inputs now (the precompile's reason).
    /// @param modelId the model
    /// @param reason the precompile's revert data (an `Error(string)`)
    error ModelNotRunnable(bytes32 modelId, bytes reason);
    /// @notice The request is not in the status the call needs.
    /// @param requestId the request
    /// @param status its status
    error WrongStatus(uint256 requestId, Status status);
    /// @notice `postClaim` by an executor whose price is above the request's maxFee.
    /// @param price the executor's price
    /// @param maxFee the request's maxFee
    error PriceAboveMaxFee(uint256 price, uint256 maxFee);
    /// @notice `abi.encode(inputs)` is longer than the market takes (MAX_INPUT_BYTES).
    /// @param size its length in bytes
    /// @param max the most the market takes
    error InputsTooLarge(uint256 size, uint256 max);
    /// @notice `abi.encode(outputs)` is longer than a claim may be (MAX_OUTPUT_BYTES).
    /// @param size its length in bytes
    /// @param max the most a claim may carry
    error OutputsTooLarge(uint256 size, uint256 max);
    /// @notice The given `outputHash` is not keccak256(abi.encode(outputs)).
    /// @param outputHash the hash given
    /// @param computed the hash of the outputs given
    error OutputHashMismatch(bytes32 outputHash, bytes32 computed);
    /// @notice The outputs given do not hash to the claim's outputHash.
    /// @param requestId the request
    error OutputsMismatch(uint256 requestId);
    /// @notice The inputs given do not hash to the request's inputsHash.
    /// @param requestId the request
    error InputsMismatch(uint256 requestId);
    /// @notice `finalize` before the window closed (and with no failed challenge).
    /// @param requestId the request
    /// @param finalAtBlock the first block at which it may be finalised
    error WindowOpen(uint256 requestId, uint64 finalAtBlock);
    /// @notice `challenge` after the window closed.
    /// @param requestId the request
    /// @param finalAtBlock the block at which the window closed
    error WindowClosed(uint256 requestId, uint64 finalAtBlock);
    /// @notice `challenge` of a claim a challenge already found within tolerance.
    /// @param requestId the request
    error AlreadyVerified(uint256 requestId);
    /// @notice `challenge` whose `msg.value` is not `challengeBond()`.
    /// @param bond the bond asked for
    /// @param paid the value sent
    error WrongBond(uint256 bond, uint256 paid);
    /// @notice The consensus run inside `challenge` failed: nothing is settled and the bond stays with the caller.
    /// @param requestId the request
    /// @param reason the precompile's revert data (empty when it ran out of gas)
    error ConsensusRunFailed(uint256 requestId, bytes reason);
    /// @notice The tolerance check inside `challenge` could not run (out of gas, or no `withinTolerance` under the
    ///         chain's profile): nothing is settled.
    /// @param requestId the request
    error ToleranceCheckFailed(uint256 requestId);
    /// @notice Too little gas left to give the callback its stipend (CALLBACK_GAS); send the transaction with more.
    /// @param needed the gas the call needs left at that point
    /// @param left the gas left
    error CallbackGasShort(uint256 needed, uint256 left);
    /// @notice The recipient refused the payment; its credit stays owed.
    error TransferFailed();
    /// @notice `cancel` by an account other than the request's requester.
    /// @param requestId the request
    /// @param caller the caller
    error NotRequester(uint256 requestId, address caller);
    /// @notice `cancel` before a challenge window has passed since the request.
    /// @param requestId the request
    /// @param atBlock the first block at which it may be cancelled
    error TooEarlyToCancel(uint256 requestId, uint64 atBlock);

    /// @notice Bond `msg.value` (added to any stake already bonded; the total must reach `minStake()`) and set
    ///         the provider and the price. Re-registering updates provider and price.
    /// @param provider "cpu", "cuda", "coreml" or "webgpu" (1 to 32 bytes; not checked on-chain)
    /// @param price wei asked per request
    function register(string calldata provider, uint256 price) external payable;

    /// @notice Stop claiming and queue the whole stake for `withdraw()`; refused while claims are open.
    function exit() external;

    /// @notice Set model `modelId`'s tolerance; only its owner in ModelRegistry may.
    /// @param modelId the model
    /// @param maxUlp float elements within this many units in the last place pass
    /// @param maxAbsE9 float elements within maxAbsE9 * 1e-9 pass
    /// @param sameArgmax only the argmax along each output's last axis must agree (classifiers)
    function setTolerance(bytes32 modelId, uint32 maxUlp, uint64 maxAbsE9, bool sameArgmax) external;

    /// @notice Ask for an inference; `msg.value` must equal `maxFee`. The model must be active in ModelRegistry
    ///         and have a tolerance.
    /// @param modelId the model in ModelRegistry
    /// @param inputs the model's inputs (docs/tensors.md)
    /// @param callback an IInferenceConsumer called with the final outputs, or address(0)
    /// @param maxFee the most wei an executor may take; the rest goes back to the requester
    /// @return requestId 1, 2, … in order
    function requestInference(bytes32 modelId, Tensor[] calldata inputs, address callback, uint256 maxFee)
        external
        payable
        returns (uint256 requestId);

    /// @notice Take back a request nobody has claimed, once `challengeWindow()` blocks have passed since it was
    ///         made: the whole maxFee is credited to the requester (no callback). Only the requester may.
    /// @dev Without it a request no executor takes would keep its fee for ever. The delay keeps a requester from
    ///      reading a claim's outputs from the mempool and cancelling in front of it; an executor should not claim
    ///      a request older than a window (it would race a cancel, and lose only gas).
    /// @param requestId the request
    function cancel(uint256 requestId) external;

    /// @notice Claim a request's outputs (an active executor whose price is at most the request's maxFee; the
    ///         first claim wins). `outputHash` must equal keccak256(abi.encode(outputs)).
    /// @param requestId the request
    /// @param outputs the model's outputs as the executor computed them
    /// @param outputHash keccak256(abi.encode(outputs))
    function postClaim(uint256 requestId, Tensor[] calldata outputs, bytes32 outputHash) external;

    /// @notice After the window (or at once after a failed challenge) anyone may finalise: the executor is
    ///         credited its price, the requester the rest of maxFee, and the callback runs with `outputs` (which
    ///         must hash to the claim's outputHash). A reverting callback does not stop finalisation.
    /// @param requestId the request
    /// @param outputs the claimed outputs (from the ClaimPosted event)
    function finalize(uint256 requestId, Tensor[] calldata outputs) external;

    /// @notice Challenge a claim inside its window with `msg.value == challengeBond()`; `inputs` and `outputs`
    ///         must hash to the request's and the claim's. Runs the consensus inference and settles.
    /// @param requestId the request
    /// @param inputs the request's inputs (from the InferenceRequested event)
    /// @param outputs the claimed outputs (from the ClaimPosted event)
    /// @return overturned true when the claim was outside the model's tolerance
    function challenge(uint256 requestId, Tensor[] calldata inputs, Tensor[] calldata outputs)
        external
        payable
        returns (bool overturned);

    /// @notice Pay out everything credited to the sender (fees, refunds, bonds, slashed stakes, exited stake).
    /// @return amount wei paid (0 when nothing is owed)
    function withdraw() external returns (uint256 amount);

    /// @notice Blocks a claim stays open to challenges (the network's genesis sets it).
    /// @return blocks the window
    function challengeWindow() external view returns (uint64 blocks);
    /// @notice The exact value a challenge must send.
    /// @return wei_ the bond
    function challengeBond() external view returns (uint256 wei_);
    /// @notice The least stake an executor bonds to claim.
    /// @return wei_ the stake
    function minStake() external view returns (uint256 wei_);
    /// @notice How many requests were made (the last id).
    /// @return the count
    function requestCount() external view returns (uint256);
    /// @notice A request and its claim.
    /// @param requestId the request
    /// @return the request (status None for an unknown id)
    function getRequest(uint256 requestId) external view returns (Request memory);
    /// @notice An executor's stake, price and counts.
    /// @param executor the executor
    /// @return the executor (all zero when never registered)
    function getExecutor(address executor) external view returns (Executor memory);
    /// @notice A model's tolerance (`set` false when none).
    /// @param modelId the model
    /// @return the tolerance
    function getTolerance(bytes32 modelId) external view returns (Tolerance memory);
    /// @notice Wei credited to an account, paid by `withdraw()`.
    /// @param account the account
    /// @return the credit
    function credit(address account) external view returns (uint256);
}
