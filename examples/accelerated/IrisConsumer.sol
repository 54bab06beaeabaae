// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IInferenceConsumer, IInferenceMarket} from "../../contracts/IInferenceMarket.sol";
import {Tensor} from "../../contracts/ILatticeInference.sol";
import {Lattice} from "../../contracts/Lattice.sol";

/// @notice Asks the InferenceMarket for an iris classification and keeps the outputs it receives (docs/accelerated.md).
/// @dev Features are centimetres with 4 decimals (5.1 cm = 51000), sent as fixed-point, so the probabilities come
///      back fixed-point with 4 decimals too. The answer arrives later, in `onInferenceResult`: after the
///      challenge window from the executor, or at once from the consensus runtime when a challenge overturned a
///      wrong claim. Only the market may deliver results.
contract IrisConsumer is IInferenceConsumer {
    IInferenceMarket public constant MARKET = IInferenceMarket(Lattice.INFERENCE_MARKET);

    bytes32 public immutable modelId;
    address public immutable owner;

    /// @notice The outputs of the last result, as the market delivered them.
    Tensor[] internal _outputs;
    /// @notice The request whose outputs `_outputs` holds.
    uint256 public lastRequestId;
    /// @notice The species of the last result (0 setosa, 1 versicolor, 2 virginica).
    uint256 public lastSpecies;
    /// @notice Results received.
    uint256 public results;
    /// @notice requestId => species + 1 (0: no result yet).
    mapping(uint256 => uint256) public speciesOf;

    /// @notice A result arrived.
    /// @param requestId the market's request id
    /// @param species the argmax of the probabilities
    /// @param outputHash keccak256(abi.encode(outputs))
    event Result(uint256 indexed requestId, uint256 species, bytes32 outputHash);

    /// @notice `onInferenceResult` from an account other than the market.
    /// @param caller the account that called
    error NotMarket(address caller);
    /// @notice `withdraw` by an account other than the owner.
    error NotOwner();

    constructor(bytes32 modelId_) {
        modelId = modelId_;
        owner = msg.sender;
    }

    /// @notice Request a classification of one flower; `msg.value` is the most the executor may take.
    /// @param featuresE4 sepal length, sepal width, petal length, petal width in cm, 4 decimals
    /// @return requestId the market's id for the request
    function classify(int256[] calldata featuresE4) external payable returns (uint256 requestId) {
        Tensor[] memory inputs = new Tensor[](1);
        inputs[0] = Lattice.row("x", featuresE4, 4);
        requestId = MARKET.requestInference{value: msg.value}(modelId, inputs, address(this), msg.value);
    }

    /// @inheritdoc IInferenceConsumer
    function onInferenceResult(uint256 requestId, Tensor[] calldata outputs) external {
        if (msg.sender != address(MARKET)) revert NotMarket(msg.sender);
        delete _outputs;
        // element by element: solc does not copy a struct array with nested dynamic arrays to storage at once
        for (uint256 i = 0; i < outputs.length; i++) {
            Tensor storage t = _outputs.push();
            t.name = outputs[i].name;
            t.dtype = outputs[i].dtype;
            t.shape = outputs[i].shape;
            t.data = outputs[i].data;
        }
        uint256 species = Lattice.argmax(Lattice.toInt256(outputs[0]));
        lastRequestId = requestId;
        lastSpecies = species;
        speciesOf[requestId] = species + 1;
        results += 1;
        emit Result(requestId, species, keccak256(abi.encode(outputs)));
    }

    /// @notice The outputs of the last result.
    /// @return the tensors, as delivered
    function lastOutputs() external view returns (Tensor[] memory) {
        return _outputs;
    }

    /// @notice Take back a request no executor claimed (after a challenge window; the fee is credited back here).
    /// @param requestId the market's request id
    function cancel(uint256 requestId) external {
        if (msg.sender != owner) revert NotOwner();
        MARKET.cancel(requestId);
    }

    /// @notice Pull what the market credited this contract (unspent fees, refunds) and send it to the owner.
    /// @return amount wei sent
    function withdraw() external returns (uint256 amount) {
        if (msg.sender != owner) revert NotOwner();
        amount = MARKET.withdraw();
        (bool ok,) = payable(owner).call{value: amount}("");
        require(ok, "transfer failed");
    }

    receive() external payable {}
}
