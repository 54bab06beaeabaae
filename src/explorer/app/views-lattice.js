// Lattice's own pages: the model registry, one model with its recent inferences, an inference proof verified by
// InferenceVerifier in this browser (an eth_call), and the pinning summary.
import { addrLink, badge, blockLink, bytes, eth, fields, html, int, modelLink, num, short, txLink } from './format.js'
import { INCENTIVES, inferenceRecords, PRECOMPILE, readContract, VERIFIER, verifyOnChain } from './inference.js'
import { batch, call } from './rpc.js'

/**
 * The latest inference records on the chain: transactions that called the precompile (found with
 * ots_searchTransactionsBefore on its address), newest first, with their records.
 */
async function recentInferences(txLimit = 25) {
  const page = await call('ots_searchTransactionsBefore', [PRECOMPILE, 0, txLimit])
  const perTx = await Promise.all(page.txs.map((t) => inferenceRecords(t.hash)))
  return perTx.flat().map((p) => ({
    txHash: p.record.txHash,
    index: num(p.record.index),
    blockNumber: p.blockNumber,
    modelId: p.record.modelId,
    flops: BigInt(p.record.flops),
    outputHash: p.record.outputHash,
  }))
}

/** Revenue of a model: paid inferences (through ModelRegistry.infer) times its price. */
const revenue = (m) => BigInt(m.price) * BigInt(m.inferences)

/** Package sizes of models as IPFSIncentives knows them (set when a package is verified), by model id. */
async function packageSizes(ids) {
  const got = await readContract(
    'IPFSIncentives',
    INCENTIVES,
    ids.map((id) => ['models', [id]]),
  ).catch(() => [])
  const out = new Map()
  ids.forEach((id, i) => {
    const r = got[i]
    if (r && !(r instanceof Error) && r.size > 0n) out.set(id, r.size)
  })
  return out
}

/** Every model in the registry (lattice_listModels, 100 a page). */
export async function modelsView(offset = 0) {
  const [list, recent] = await Promise.all([
    call('lattice_listModels', [{ offset, limit: 100 }]),
    recentInferences().catch(() => []),
  ])
  const sizes = await packageSizes(list.models.map((m) => m.modelId))
  const flopsOf = new Map()
  for (const r of recent) if (!flopsOf.has(r.modelId)) flopsOf.set(r.modelId, r.flops)
  return html`
    <h1>Models <span class="muted">(${list.total})</span></h1>
    <div class="scroll"><table class="list stack" id="models">
      <thead><tr><th>Name</th><th>Version</th><th>Owner</th><th>CID</th><th>Size</th><th>FLOPs (last run)</th><th>Price</th><th>Policy</th><th>Status</th><th>Inferences</th><th>Revenue</th></tr></thead>
      <tbody>${
        list.models.length === 0
          ? html`<tr><td colspan="11" class="muted">No models registered.</td></tr>`
          : list.models.map(
              (m) => html`<tr>
                <td data-label="Name">${modelLink(m.modelId, m.name)}</td><td data-label="Version">${m.version}</td><td data-label="Owner">${addrLink(m.owner, 4)}</td>
                <td data-label="CID" class="mono" title="${m.cid}">${short(m.cid, 8)}</td><td data-label="Size">${bytes(sizes.get(m.modelId))}</td>
                <td data-label="FLOPs (last run)">${m.flops ? int(m.flops) : flopsOf.has(m.modelId) ? int(flopsOf.get(m.modelId)) : '—'}</td>
                <td data-label="Price">${eth(m.price)}</td><td data-label="Policy">${m.policy}</td>
                <td data-label="Status">${badge(m.status, m.status === 'active' ? 'ok' : 'bad')}</td>
                <td data-label="Inferences" title="precompile runs in mined transactions; paid calls through the registry"><span>${int(m.runs)}${m.inferences !== '0' ? html` <span class="muted">(${m.inferences} paid)</span>` : ''}</span></td>
                <td data-label="Revenue">${eth(revenue(m))}</td></tr>`,
            )
      }</tbody>
    </table></div>
    <nav class="pager">${offset > 0 ? html`<a href="#/models/${Math.max(0, offset - 100)}">← newer</a>` : ''} ${offset + 100 < list.total ? html`<a href="#/models/${offset + 100}">more →</a>` : ''}</nav>`
}

/** One model, with its recent inferences. */
export async function modelView(id) {
  const m = await call('lattice_getModel', [id])
  if (!m) return html`<h1>Model</h1><p class="error">No model ${id} in the registry.</p>`
  const [all, sizes] = await Promise.all([recentInferences(50).catch(() => []), packageSizes([m.modelId])])
  const recent = all.filter((r) => r.modelId === m.modelId)
  return html`
    <h1>Model <span data-testid="model-name">${m.name}</span> <span class="muted">v${m.version}</span></h1>
    ${fields([
      ['Model id', html`<span class="mono" data-testid="model-id">${m.modelId}</span>`],
      ['Owner', addrLink(m.owner, 20)],
      ['Status', badge(m.status, m.status === 'active' ? 'ok' : 'bad')],
      ['Access policy', m.policy],
      m.allowlist?.length > 0 && ['Allowed', html`${m.allowlist.map((a) => html`${addrLink(a)} `)}`],
      ['Price', eth(m.price)],
      [
        'Inferences',
        html`<span data-testid="model-runs">${int(m.runs)}</span> run in transactions, ${m.inferences} paid through the registry`,
      ],
      ['Revenue', eth(revenue(m))],
      ['Inputs → outputs', html`<span class="mono">${m.io || '—'}</span>`],
      ['Package CID', html`<span class="mono">${m.cid}</span>`],
      ['Package size', sizes.has(m.modelId) ? bytes(sizes.get(m.modelId)) : 'not yet verified by IPFSIncentives'],
      ['Digest', html`<span class="mono">${m.digest}</span>`],
      ['Storage commitment', html`<span class="mono">${m.commitment}</span>`],
      ['Format', m.format],
      ['Registered', html`block ${blockLink(m.registeredBlock)} in ${txLink(m.registeredTx)}`],
      m.previous && ['Replaces', modelLink(m.previous)],
      m.next && ['Replaced by', modelLink(m.next)],
    ])}
    <h2>Recent inferences</h2>
    <table class="list" id="model-inferences">
      <thead><tr><th>Transaction</th><th>Block</th><th>FLOPs</th><th class="wide">Output hash</th><th>Proof</th></tr></thead>
      <tbody>${
        recent.length === 0
          ? html`<tr><td colspan="5" class="muted">No inference of this model in the latest transactions that called the precompile.</td></tr>`
          : recent.map(
              (r) =>
                html`<tr><td>${txLink(r.txHash)}</td><td>${blockLink(r.blockNumber)}</td><td>${int(r.flops)}</td><td class="mono wide">${short(r.outputHash, 10)}</td><td><a href="#/proof/${r.txHash}/${r.index}">proof</a></td></tr>`,
            )
      }</tbody>
    </table>`
}

/** An inference proof, verified against InferenceVerifier on this chain from the browser. */
export async function proofView(txHash, index = 0) {
  let p
  try {
    p = await call('lattice_getInferenceProof', [txHash, `0x${index.toString(16)}`])
  } catch (err) {
    return html`<h1>Inference proof</h1><p class="error">${err.message}</p>`
  }
  const [model, head] = await Promise.all([call('lattice_getModel', [p.record.modelId]), call('eth_blockNumber')])
  let verdict
  try {
    const ok = await verifyOnChain(p)
    verdict = ok
      ? html`<p class="verdict ok" data-testid="verdict">✓ proof valid</p><p class="muted">InferenceVerifier (${addrLink(VERIFIER, 20)}) accepted the record and its Merkle path against the root stored for block ${num(p.blockNumber)} (an eth_call from this page).</p>`
      : num(head) <= num(p.blockNumber)
        ? html`<p class="verdict" data-testid="verdict">… root not on chain yet</p><p class="muted">Block ${num(p.blockNumber)}'s inference root is written by the next block; reload after it is mined.</p>`
        : html`<p class="verdict bad" data-testid="verdict">✗ proof not valid</p><p class="muted">InferenceVerifier refused the record.</p>`
  } catch (err) {
    verdict = html`<p class="verdict bad" data-testid="verdict">verification failed: ${err.message}</p>`
  }
  const r = p.record
  return html`
    <h1>Inference proof</h1>
    ${verdict}
    ${fields([
      ['Transaction', html`${txLink(r.txHash, 20)} (inference #${num(r.index)})`],
      ['Block', html`${blockLink(p.blockNumber)} <span class="mono">${short(p.blockHash, 10)}</span>`],
      ['Model', model ? modelLink(r.modelId, `${model.name} v${model.version}`) : modelLink(r.modelId)],
      ['FLOPs', int(r.flops)],
      ['Input hash', html`<span class="mono">${r.inputHash}</span>`],
      ['Output hash', html`<span class="mono">${r.outputHash}</span>`],
      ['Chain id', num(r.chainId)],
      ['Inference root', html`<span class="mono">${p.root}</span>`],
      [
        'Merkle path',
        p.proof.length === 0
          ? 'empty (the only inference of its block)'
          : html`${p.proof.map((h) => html`<div class="mono">${h}</div>`)}`,
      ],
      [
        'Validator signatures',
        p.signatures.length === 0
          ? 'none'
          : html`${p.signatures.map((s) => html`<div>${addrLink(s.signer, 20)} <span class="mono muted">${short(s.signature, 10)}</span></div>`)}`,
      ],
    ])}`
}

/** IPFSIncentives on chain: every registered pinner (first 100) with stake, rewards and challenge results. */
async function networkPinners() {
  const [count, epoch, totalStake, pool] = await readContract('IPFSIncentives', INCENTIVES, [
    ['pinnerCount', []],
    ['currentEpoch', []],
    ['totalStake', []],
    ['pool', []],
  ])
  if (count instanceof Error) throw count
  const n = Math.min(Number(count[0]), 100)
  const addrs = await readContract(
    'IPFSIncentives',
    INCENTIVES,
    [...Array(n).keys()].map((i) => ['pinnerAt', [i]]),
  )
  const list = addrs.filter((a) => !(a instanceof Error)).map((a) => a[0])
  const info = await readContract('IPFSIncentives', INCENTIVES, [
    ...list.map((a) => ['pinners', [a]]),
    ...list.map((a) => ['claims', [a]]),
  ])
  return {
    count: Number(count[0]),
    epoch: epoch instanceof Error ? null : epoch[0],
    totalStake: totalStake instanceof Error ? null : totalStake[0],
    pool: pool instanceof Error ? null : pool[0],
    pinners: list.map((address, i) => {
      const p = info[i]
      const c = info[list.length + i]
      return {
        address,
        stake: p.stake,
        earned: p.earned,
        passed: p.passed,
        failed: p.failed,
        claims: c instanceof Error ? null : c[0].length,
      }
    }),
  }
}

/** What this node pins, the network's pinners (IPFSIncentives), and this node's own pinner when it runs one. */
export async function pinningView() {
  const [[pins, pinner], network] = await Promise.all([
    batch([
      ['lattice_pinningSummary', []],
      ['lattice_pinnerSummary', []],
    ]),
    networkPinners().catch((err) => err),
  ])
  const byType = pins instanceof Error ? [] : Object.entries(pins.byType)
  return html`
    <h1>Pinning</h1>
    <h2>This node's pins</h2>
    ${
      pins instanceof Error
        ? html`<p class="error">${pins.message}</p>`
        : fields([
            ['Pinned models', html`<span data-testid="pinned-models">${pins.pinnedModels}</span>`],
            ['Bytes', bytes(pins.bytes)],
            byType.length > 0 && [
              'By type',
              html`${byType.map(([k, v]) => html`<div>${k}: ${v.models} models, ${bytes(v.bytes)}</div>`)}`,
            ],
            ['Rewards accrued', pins.rewardsAccrued],
            [
              'Reported by other nodes',
              `${pins.external.nodes} nodes, ${pins.external.pins} pins, ${bytes(pins.external.bytes)}`,
            ],
          ])
    }
    <h2>Pinners on chain (IPFSIncentives)</h2>
    ${
      network instanceof Error
        ? html`<p class="error">${network.message}</p>`
        : html`${fields([
            ['Registered pinners', html`<span data-testid="pinner-count">${network.count}</span>`],
            ['Epoch', network.epoch === null ? '—' : int(network.epoch)],
            ['Total stake', network.totalStake === null ? '—' : eth(network.totalStake)],
            ['Reward pool', network.pool === null ? '—' : eth(network.pool)],
          ])}
          <div class="scroll"><table class="list" id="pinners">
            <thead><tr><th>Pinner</th><th>Stake</th><th>Models claimed</th><th>Challenges passed</th><th>Challenges failed</th><th>Earned</th></tr></thead>
            <tbody>${
              network.pinners.length === 0
                ? html`<tr><td colspan="6" class="muted">No pinner has registered.</td></tr>`
                : network.pinners.map(
                    (p) =>
                      html`<tr><td>${addrLink(p.address)}</td><td>${eth(p.stake)}</td><td>${p.claims ?? '—'}</td><td class="ok-text">${int(p.passed)}</td><td class="${p.failed > 0n ? 'error' : ''}">${int(p.failed)}</td><td>${eth(p.earned)}</td></tr>`,
                  )
            }</tbody>
          </table></div>`
    }
    <h2>This node's pinner</h2>
    ${
      pinner instanceof Error
        ? html`<p class="muted">${pinner.message.replace(/^lattice_pinnerSummary: /, '')}</p>`
        : fields([
            ['Pinner', addrLink(pinner.address, 20)],
            ['Stake', eth(pinner.stake)],
            ['Models claimed / pinned', `${pinner.claimedModels} / ${pinner.pinnedModels}`],
            ['Bytes', bytes(pinner.bytes)],
            ['Challenges passed', html`<span class="ok-text">${pinner.challengesPassed}</span>`],
            [
              'Challenges failed',
              html`<span class="${pinner.challengesFailed ? 'error' : ''}">${pinner.challengesFailed}</span>`,
            ],
            ['Rewards earned / withdrawn', `${eth(pinner.rewardsEarned)} / ${eth(pinner.rewardsWithdrawn)}`],
            pinner.refused.length > 0 && [
              'Refused',
              html`${pinner.refused.map((x) => html`<div>${modelLink(x.modelId)}: ${x.reason}</div>`)}`,
            ],
          ])
    }`
}
