// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {ILatticeInference, Tensor} from "./ILatticeInference.sol";

/// @title ModelRegistry
/// @notice The on-chain list of ONNX models: where each lives on IPFS, what it costs, who may call it.
/// @dev Predeployed in genesis at 0xA110000000000000000000000000000000000001 (no constructor runs, so the
///      contract holds no state that needs initialising). The inference precompile reads `_models` and
///      `_allowed` straight from storage: the layout below is part of the consensus rules and is pinned by
///      a test against solc's storageLayout (docs/precompile.md). Append new state after `_cidOwner` only.
contract ModelRegistry {
    address internal constant INFERENCE = 0x0000000000000000000000000000000000000a11;

    uint8 internal constant STATUS_NONE = 0;
    uint8 internal constant STATUS_ACTIVE = 1;
    uint8 internal constant STATUS_DEPRECATED = 2;

    uint8 internal constant POLICY_PUBLIC = 0;
    uint8 internal constant POLICY_PRIVATE = 1;
    uint8 internal constant POLICY_ALLOWLIST = 2;

    struct Model {
        address owner; // slot +0, packed with status and policy
        uint8 status;
        uint8 policy;
        bytes32 digest; // +1: package digest (keccak256 of the canonical manifest bytes)
        bytes32 commitment; // +2: storage commitment (keccak Merkle root over 1 KiB leaves)
        uint256 price; // +3: wei per inference through infer()
        uint256 inferences; // +4: inferences routed through this registry's infer()
        bytes32 previous; // +5: the version this one replaces, or 0
        string name; // +6
        string version; // +7
        string cid; // +8: IPFS CID of the package manifest
        string format; // +9: e.g. "onnx"
        string io; // +10: input/output signature summary
    }

    /// @dev slot 0
    mapping(bytes32 => Model) internal _models;
    /// @dev slot 1: modelId => caller => allowed
    mapping(bytes32 => mapping(address => bool)) internal _allowed;
    /// @notice Revenue owed to each model owner, paid out by `withdraw` (pull payments).
    /// @dev slot 2
    mapping(address => uint256) public balances;
    /// @dev slot 3
    bytes32[] internal _ids;
    /// @dev slot 4: reentrancy lock (0/1 = free, 2 = held)
    uint256 private _lock;
    /// @dev slot 5: package digest => the account that registered it first. Only that account may register
    ///      entries (versions) with this digest; `transferOwnership` hands the package over with the entry.
    mapping(bytes32 => address) internal _digestOwner;
    /// @dev slot 6: keccak256(bytes(cid)) => the same, for the manifest CID string
    mapping(bytes32 => address) internal _cidOwner;

    /// @notice A model entry was created (`register`, or `update` for the new version).
    /// @param modelId the new entry's id
    /// @param owner the account that registered it
    /// @param name the model's name
    /// @param version the model's version
    /// @param cid IPFS CID of the package manifest
    /// @param digest keccak256 of the canonical manifest bytes
    event ModelRegistered(bytes32 indexed modelId, address indexed owner, string name, string version, string cid, bytes32 digest);
    /// @notice `update` replaced `modelId` with `newModelId` (the old one is deprecated in the same call).
    /// @param modelId the replaced entry
    /// @param newModelId the new version's entry
    /// @param version the new version string
    event ModelUpdated(bytes32 indexed modelId, bytes32 indexed newModelId, string version);
    /// @notice The model can no longer be run; it stays listed.
    /// @param modelId the deprecated entry
    event ModelDeprecated(bytes32 indexed modelId);
    /// @notice The model's access policy changed (also at registration when it is not public).
    /// @param modelId the entry
    /// @param policy 0 public, 1 private, 2 allowlist
    event AccessPolicyChanged(bytes32 indexed modelId, uint8 policy);
    /// @notice An account was added to or removed from the model's allowlist.
    /// @param modelId the entry
    /// @param account the account
    /// @param allowed true for `allow`, false for `disallow`
    event AllowlistChanged(bytes32 indexed modelId, address indexed account, bool allowed);
    /// @notice The model's price per inference changed (also at registration when it is not 0).
    /// @param modelId the entry
    /// @param price wei per inference through `infer`
    event PriceChanged(bytes32 indexed modelId, uint256 price);
    /// @notice The entry (and the package, when the old owner held it) changed hands.
    /// @param modelId the entry
    /// @param from the old owner
    /// @param to the new owner
    event OwnershipTransferred(bytes32 indexed modelId, address indexed from, address indexed to);
    /// @notice A paid `infer` credited the model's owner.
    /// @param modelId the entry
    /// @param caller who paid
    /// @param amount wei credited to the owner's balance
    event InferencePaid(bytes32 indexed modelId, address indexed caller, uint256 amount);
    /// @notice An owner withdrew their balance (also emitted for 0).
    /// @param owner the account paid
    /// @param amount wei paid
    event Withdrawal(address indexed owner, uint256 amount);

    /// @notice No model has this id.
    /// @param modelId the id asked for
    error UnknownModel(bytes32 modelId);
    /// @notice An owner operation from an account that does not own the model.
    /// @param modelId the entry
    /// @param caller the account that called
    error NotOwner(bytes32 modelId, address caller);
    /// @notice The caller already registered this name and version.
    /// @param modelId the existing entry
    error AlreadyRegistered(bytes32 modelId);
    /// @notice `infer` on a deprecated model.
    /// @param modelId the entry
    error ModelNotActive(bytes32 modelId);
    /// @notice A policy above 2 (POLICY_ALLOWLIST).
    /// @param policy the policy given
    error InvalidPolicy(uint8 policy);
    /// @notice `infer` from a caller the model's access policy excludes.
    /// @param modelId the entry
    /// @param caller the account that called
    error CallerNotAllowed(bytes32 modelId, address caller);
    /// @notice `infer` whose `msg.value` is not exactly the model's price.
    /// @param modelId the entry
    /// @param price the model's price in wei
    /// @param paid the `msg.value` sent
    error WrongPayment(bytes32 modelId, uint256 price, uint256 paid);
    /// @notice `infer` or `withdraw` entered while one of them is running.
    error Reentrancy();
    /// @notice A required field of the spec is empty (`name`, `version`, `cid`) or zero (`digest`).
    /// @param field the field's name
    error EmptyField(string field);
    /// @notice The withdrawal recipient refused the payment; its balance stays owed.
    error TransferFailed();
    /// @notice The package digest was registered by another account: a package belongs to whoever registered it first.
    /// @param digest the package digest
    /// @param owner the account that holds it
    error DigestOwnedByAnother(bytes32 digest, address owner);
    /// @notice The manifest CID was registered by another account.
    /// @param cid the manifest CID
    /// @param owner the account that holds it
    error CidOwnedByAnother(string cid, address owner);
    /// @notice `transferOwnership` to the zero address: nobody could ever act on the entry again.
    error ZeroAddress();

    /// @notice Arguments of `register` and `update`.
    struct ModelSpec {
        string name;
        string version;
        string cid;
        bytes32 digest;
        bytes32 commitment;
        string format;
        string io;
        uint8 policy;
        uint256 price;
    }

    modifier nonReentrant() {
        if (_lock == 2) revert Reentrancy();
        _lock = 2;
        _;
        _lock = 1;
    }

    modifier onlyOwner(bytes32 modelId) {
        Model storage m = _models[modelId];
        if (m.status == STATUS_NONE) revert UnknownModel(modelId);
        if (m.owner != msg.sender) revert NotOwner(modelId, msg.sender);
        _;
    }

    /// @notice The id a model gets: keccak256(abi.encode(owner, name, version)).
    /// @param owner the registering account
    /// @param name the model's name
    /// @param version the model's version
    /// @return the model id
    function modelIdOf(address owner, string memory name, string memory version) public pure returns (bytes32) {
        return keccak256(abi.encode(owner, name, version));
    }

    /// @notice Register a model owned by the caller.
    /// @dev Reverts EmptyField, InvalidPolicy, AlreadyRegistered, or DigestOwnedByAnother / CidOwnedByAnother when
    ///      another account registered the package first. Emits ModelRegistered, then PriceChanged and
    ///      AccessPolicyChanged when price and policy are not the defaults.
    /// @param spec the model's fields
    /// @return modelId modelIdOf(msg.sender, spec.name, spec.version)
    function register(ModelSpec calldata spec) external returns (bytes32 modelId) {
        modelId = _register(spec, bytes32(0));
    }

    /// @notice Register a new version of `modelId` and deprecate the old one. Allowlist entries do not carry over.
    /// @dev Owner only; the same checks as `register`. The new entry's `previous` is `modelId`.
    /// @param modelId the entry to replace
    /// @param spec the new version's fields
    /// @return newModelId the new entry's id
    function update(bytes32 modelId, ModelSpec calldata spec) external onlyOwner(modelId) returns (bytes32 newModelId) {
        newModelId = _register(spec, modelId);
        _models[modelId].status = STATUS_DEPRECATED;
        emit ModelDeprecated(modelId);
        emit ModelUpdated(modelId, newModelId, spec.version);
    }

    function _register(ModelSpec calldata spec, bytes32 previous) internal returns (bytes32 modelId) {
        if (bytes(spec.name).length == 0) revert EmptyField("name");
        if (bytes(spec.version).length == 0) revert EmptyField("version");
        if (bytes(spec.cid).length == 0) revert EmptyField("cid");
        if (spec.digest == bytes32(0)) revert EmptyField("digest");
        if (spec.policy > POLICY_ALLOWLIST) revert InvalidPolicy(spec.policy);
        modelId = modelIdOf(msg.sender, spec.name, spec.version);
        Model storage m = _models[modelId];
        if (m.status != STATUS_NONE) revert AlreadyRegistered(modelId);
        _claimPackage(spec.digest, spec.cid);
        m.owner = msg.sender;
        m.status = STATUS_ACTIVE;
        m.policy = spec.policy;
        m.digest = spec.digest;
        m.commitment = spec.commitment;
        m.price = spec.price;
        m.previous = previous;
        m.name = spec.name;
        m.version = spec.version;
        m.cid = spec.cid;
        m.format = spec.format;
        m.io = spec.io;
        _ids.push(modelId);
        emit ModelRegistered(modelId, msg.sender, spec.name, spec.version, spec.cid, spec.digest);
        if (spec.price != 0) emit PriceChanged(modelId, spec.price);
        if (spec.policy != POLICY_PUBLIC) emit AccessPolicyChanged(modelId, spec.policy);
    }

    /// @dev Reserve the package's digest and CID for the caller, or check that they are the caller's already.
    ///      Without this, anyone could list another owner's package (read from the chain) as a new public, free
    ///      model, and private, allowlisted and priced entries would run for anyone.
    function _claimPackage(bytes32 digest, string calldata cid) internal {
        address d = _digestOwner[digest];
        if (d == address(0)) _digestOwner[digest] = msg.sender;
        else if (d != msg.sender) revert DigestOwnedByAnother(digest, d);
        bytes32 c = keccak256(bytes(cid));
        address o = _cidOwner[c];
        if (o == address(0)) _cidOwner[c] = msg.sender;
        else if (o != msg.sender) revert CidOwnedByAnother(cid, o);
    }

    /// @notice The account that may register entries with this package digest (0: nobody has yet).
    /// @param digest the package digest
    /// @return the account, or address(0)
    function digestOwner(bytes32 digest) external view returns (address) {
        return _digestOwner[digest];
    }

    /// @notice The account that may register entries with this manifest CID (0: nobody has yet).
    /// @param cid the manifest CID
    /// @return the account, or address(0)
    function cidOwner(string calldata cid) external view returns (address) {
        return _cidOwner[keccak256(bytes(cid))];
    }

    /// @notice Stop a model from being run; it stays listed.
    /// @dev Owner only. There is no way back: register a new version instead.
    /// @param modelId the entry
    function deprecate(bytes32 modelId) external onlyOwner(modelId) {
        _models[modelId].status = STATUS_DEPRECATED;
        emit ModelDeprecated(modelId);
    }

    /// @notice Set who may run the model: 0 public, 1 private (owner only), 2 allowlist.
    /// @dev Owner only; reverts InvalidPolicy above 2.
    /// @param modelId the entry
    /// @param policy the new policy
    function setAccessPolicy(bytes32 modelId, uint8 policy) external onlyOwner(modelId) {
        if (policy > POLICY_ALLOWLIST) revert InvalidPolicy(policy);
        _models[modelId].policy = policy;
        emit AccessPolicyChanged(modelId, policy);
    }

    /// @notice Let `account` run the model under the allowlist policy.
    /// @dev Owner only. Has no effect on who may call while the policy is public or private.
    /// @param modelId the entry
    /// @param account the account to allow
    function allow(bytes32 modelId, address account) external onlyOwner(modelId) {
        _allowed[modelId][account] = true;
        emit AllowlistChanged(modelId, account, true);
    }

    /// @notice Take `account` off the model's allowlist.
    /// @dev Owner only.
    /// @param modelId the entry
    /// @param account the account to remove
    function disallow(bytes32 modelId, address account) external onlyOwner(modelId) {
        _allowed[modelId][account] = false;
        emit AllowlistChanged(modelId, account, false);
    }

    /// @notice Set the model's price per inference through `infer` (0: free, callable through the precompile).
    /// @dev Owner only.
    /// @param modelId the entry
    /// @param price wei per inference
    function setPrice(bytes32 modelId, uint256 price) external onlyOwner(modelId) {
        _models[modelId].price = price;
        emit PriceChanged(modelId, price);
    }

    /// @notice Hand the entry to `to`; the package (digest and CID) goes with it when the caller holds it, so
    ///         that the seller cannot list the same package again.
    /// @dev Owner only; reverts ZeroAddress for `to == address(0)`. The model id does not change.
    /// @param modelId the entry
    /// @param to the new owner
    function transferOwnership(bytes32 modelId, address to) external onlyOwner(modelId) {
        if (to == address(0)) revert ZeroAddress();
        Model storage m = _models[modelId];
        m.owner = to;
        if (_digestOwner[m.digest] == msg.sender) _digestOwner[m.digest] = to;
        bytes32 c = keccak256(bytes(m.cid));
        if (_cidOwner[c] == msg.sender) _cidOwner[c] = to;
        emit OwnershipTransferred(modelId, msg.sender, to);
    }

    /// @notice Whether `caller` may run the model under its access policy.
    /// @dev Says nothing of status or price; `infer` checks those too.
    /// @param modelId the entry
    /// @param caller the account that would call
    /// @return true when the policy admits `caller`
    function isAllowed(bytes32 modelId, address caller) public view returns (bool) {
        Model storage m = _models[modelId];
        if (m.policy == POLICY_PUBLIC) return true;
        if (caller == m.owner) return true;
        return m.policy == POLICY_ALLOWLIST && _allowed[modelId][caller];
    }

    /// @notice Run a model, paying its price. The registry checks status, access (for `msg.sender`) and
    ///         payment, credits the owner, then forwards to the inference precompile.
    /// @dev Reverts UnknownModel, ModelNotActive, CallerNotAllowed, WrongPayment (msg.value must equal the
    ///      price exactly) or Reentrancy; a precompile revert is passed through unchanged.
    /// @param modelId the entry
    /// @param inputs the model's input tensors
    /// @return the model's output tensors
    function infer(bytes32 modelId, Tensor[] calldata inputs) external payable nonReentrant returns (Tensor[] memory) {
        Model storage m = _models[modelId];
        if (m.status == STATUS_NONE) revert UnknownModel(modelId);
        if (m.status != STATUS_ACTIVE) revert ModelNotActive(modelId);
        if (!isAllowed(modelId, msg.sender)) revert CallerNotAllowed(modelId, msg.sender);
        if (msg.value != m.price) revert WrongPayment(modelId, m.price, msg.value);
        m.inferences += 1;
        if (msg.value != 0) {
            balances[m.owner] += msg.value;
            emit InferencePaid(modelId, msg.sender, msg.value);
        }
        (bool ok, bytes memory ret) = INFERENCE.call(abi.encodeCall(ILatticeInference.infer, (modelId, inputs)));
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 32), mload(ret))
            }
        }
        return abi.decode(ret, (Tensor[]));
    }

    /// @notice Withdraw the caller's revenue (pull payment).
    /// @dev Reverts TransferFailed when the caller refuses the payment (the balance stays owed).
    /// @return amount wei paid (0 when nothing is owed)
    function withdraw() external nonReentrant returns (uint256 amount) {
        amount = balances[msg.sender];
        balances[msg.sender] = 0;
        (bool ok,) = payable(msg.sender).call{value: amount}("");
        if (!ok) revert TransferFailed();
        emit Withdrawal(msg.sender, amount);
    }

    /// @notice A model entry.
    /// @dev Reverts UnknownModel for an id never registered.
    /// @param modelId the entry
    /// @return the entry, including deprecated ones
    function getModel(bytes32 modelId) external view returns (Model memory) {
        Model memory m = _models[modelId];
        if (m.status == STATUS_NONE) revert UnknownModel(modelId);
        return m;
    }

    /// @notice How many entries were ever registered (deprecated ones included).
    /// @return the count
    function modelCount() external view returns (uint256) {
        return _ids.length;
    }

    /// @notice Model ids in registration order, `limit` from `offset`.
    /// @param offset the first index
    /// @param limit the most ids to return (type(uint256).max: all)
    /// @return ids the ids, fewer than `limit` at the end of the list
    function modelIds(uint256 offset, uint256 limit) external view returns (bytes32[] memory ids) {
        uint256 n = _ids.length;
        if (offset >= n) return new bytes32[](0);
        // Compared as `limit > n - offset` so that limit = type(uint256).max does not overflow.
        uint256 end = limit > n - offset ? n : offset + limit;
        ids = new bytes32[](end - offset);
        for (uint256 i = offset; i < end; i++) {
            ids[i - offset] = _ids[i];
        }
    }

    /// @notice How many inferences ran through this registry's `infer` (direct precompile calls do not count).
    /// @param modelId the entry
    /// @return the count
    function inferenceCount(bytes32 modelId) external view returns (uint256) {
        return _models[modelId].inferences;
    }
}
