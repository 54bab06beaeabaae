// Pages about the chain itself: home (head and latest blocks), a block, a transaction, an address.
import { addrLink, ago, badge, blockLink, eth, fields, html, int, modelLink, num, short, txLink } from './format.js'
import { contract, dtypeName, ethers, inferenceCalls, PRECOMPILE } from './inference.js'
import { batch, call } from './rpc.js'

const status = (r) =>
  r ? (r.status === '0x1' ? badge('success', 'ok') : badge('reverted', 'bad')) : badge('pending', '')

/** Which of `hashes` ran an inference (their first inference record exists). */
async function inferenceFlags(hashes) {
  const got = await batch(hashes.map((h) => ['lattice_getInferenceProof', [h, '0x0']]))
  return new Map(hashes.map((h, i) => [h, !(got[i] instanceof Error)]))
}

/** Home: the head, the latest blocks and their transactions. */
export async function homeView() {
  const head = num(await call('eth_blockNumber'))
  const numbers = []
  for (let n = head; n >= 0 && numbers.length < 10; n--) numbers.push(n)
  const [blocks, [models, chainId]] = await Promise.all([
    batch(numbers.map((n) => ['eth_getBlockByNumber', [`0x${n.toString(16)}`, true]])),
    batch([
      ['lattice_listModels', [{ limit: 0 }]],
      ['eth_chainId', []],
    ]),
  ])
  const txs = blocks.flatMap((b) => (b instanceof Error ? [] : b.transactions)).slice(0, 10)
  const flags = await inferenceFlags(txs.map((t) => t.hash))
  return html`
    <section class="cards">
      <div class="card"><div class="k">Head block</div><div class="v" data-testid="home-head">${blockLink(head)}</div></div>
      <div class="card"><div class="k">Chain id</div><div class="v">${chainId instanceof Error ? '—' : num(chainId)}</div></div>
      <div class="card"><div class="k">Models</div><div class="v"><a href="#/models">${models instanceof Error ? '—' : models.total}</a></div></div>
      <div class="card"><div class="k">Pinning</div><div class="v"><a href="#/pinning">summary</a></div></div>
    </section>
    <div class="split">
      <section>
        <h2>Latest blocks</h2>
        <table class="list" id="latest-blocks">
          <thead><tr><th>Block</th><th>Age</th><th>Txs</th><th class="wide">Gas used</th></tr></thead>
          <tbody>${blocks.map((b) =>
            b instanceof Error
              ? ''
              : html`<tr><td>${blockLink(b.number)}</td><td>${ago(num(b.timestamp))}</td><td>${b.transactions.length}</td><td class="wide">${int(b.gasUsed)}</td></tr>`,
          )}</tbody>
        </table>
      </section>
      <section>
        <h2>Latest transactions</h2>
        <table class="list">
          <thead><tr><th>Transaction</th><th>Block</th><th>From → To</th><th></th></tr></thead>
          <tbody>${
            txs.length === 0
              ? html`<tr><td colspan="4" class="muted">No transactions yet.</td></tr>`
              : txs.map(
                  (t) =>
                    html`<tr><td>${txLink(t.hash)}</td><td>${blockLink(t.blockNumber)}</td><td>${addrLink(t.from, 4)} → ${t.to ? addrLink(t.to, 4) : 'create'}</td><td>${flags.get(t.hash) ? badge('inference', 'inf') : ''}</td></tr>`,
                )
          }</tbody>
        </table>
      </section>
    </div>`
}

/** A block by number or hash. */
export async function blockView(id) {
  const byHash = id.startsWith('0x') && id.length === 66
  const block = await call(byHash ? 'eth_getBlockByHash' : 'eth_getBlockByNumber', [
    byHash ? id : `0x${BigInt(id).toString(16)}`,
    true,
  ])
  if (!block) return html`<h1>Block ${id}</h1><p class="error">No such block on this chain.</p>`
  const [receipts, flags] = await Promise.all([
    call('eth_getBlockReceipts', [block.hash]),
    inferenceFlags(block.transactions.map((t) => t.hash)),
  ])
  const fees = receipts.reduce((s, r) => s + BigInt(r.gasUsed) * BigInt(r.effectiveGasPrice), 0n)
  const n = num(block.number)
  const inferences = [...flags.values()].filter(Boolean).length
  return html`
    <h1>Block <span data-testid="block-number">${n}</span></h1>
    <nav class="pager">${n > 0 ? html`<a href="#/block/${n - 1}">← ${n - 1}</a>` : ''} <a href="#/block/${n + 1}">${n + 1} →</a></nav>
    ${fields([
      ['Hash', html`<span class="mono">${block.hash}</span>`],
      ['Parent', html`<a class="mono" href="#/block/${block.parentHash}">${block.parentHash}</a>`],
      ['Time', `${new Date(num(block.timestamp) * 1000).toISOString()} (${ago(num(block.timestamp))})`],
      [
        'Transactions',
        html`<span data-testid="block-txcount">${block.transactions.length}</span>${inferences ? html` (${inferences} with inferences)` : ''}`,
      ],
      ['Gas used / limit', `${int(block.gasUsed)} / ${int(block.gasLimit)}`],
      ['Base fee', block.baseFeePerGas ? `${int(block.baseFeePerGas)} wei` : '—'],
      ['Fees paid', eth(fees)],
      ['Fee recipient', addrLink(block.miner)],
      ['State root', html`<span class="mono">${block.stateRoot}</span>`],
      ['Size', `${int(block.size)} bytes`],
    ])}
    <h2>Transactions</h2>
    <table class="list" id="block-txs">
      <thead><tr><th>#</th><th>Hash</th><th>From → To</th><th class="wide">Value</th><th>Gas used</th><th>Status</th></tr></thead>
      <tbody>${
        block.transactions.length === 0
          ? html`<tr><td colspan="6" class="muted">No transactions.</td></tr>`
          : block.transactions.map(
              (t, i) =>
                html`<tr><td>${i}</td><td>${txLink(t.hash)} ${flags.get(t.hash) ? badge('inference', 'inf') : ''}</td><td>${addrLink(t.from, 4)} → ${t.to ? addrLink(t.to, 4) : 'create'}</td><td class="wide">${eth(t.value)}</td><td>${int(receipts[i].gasUsed)}</td><td>${status(receipts[i])}</td></tr>`,
            )
      }</tbody>
    </table>`
}

/** Error(string) revert data as text, or undefined. */
async function revertText(data) {
  if (!data || data === '0x') return undefined
  if (!data.startsWith('0x08c379a0')) return `custom error ${data.slice(0, 10)} (${(data.length - 2) / 2} bytes)`
  const { AbiCoder } = await ethers()
  return AbiCoder.defaultAbiCoder().decode(['string'], `0x${data.slice(10)}`)[0]
}

const tensors = (list) =>
  list.length === 0
    ? '—'
    : html`<div>${list.map((t) => html`<div class="mono tensor">${t.name}: ${t.dtype}[${t.shape.join(',')}]</div>`)}</div>`

/** Lattice's system contracts, whose calls the page names from their ABIs. */
const SYSTEM_CONTRACTS = {
  [PRECOMPILE]: 'ILatticeInference',
  '0xa110000000000000000000000000000000000001': 'ModelRegistry',
  '0xa110000000000000000000000000000000000002': 'InferenceVerifier',
  '0xa110000000000000000000000000000000000003': 'IPFSIncentives',
  '0xa110000000000000000000000000000000000004': 'IInferenceMarket',
}

/** A receipt's logs, decoded by ABI when a Lattice system contract emitted them (the market's requests, claims…). */
async function eventRows(logs) {
  return Promise.all(
    logs.map(async (l) => {
      const name = SYSTEM_CONTRACTS[l.address.toLowerCase()]
      const parsed = name
        ? await contract(name)
            .then((c) => c.parseLog(l))
            .catch(() => null)
        : null
      if (!parsed) return { address: l.address, event: l.topics[0] ? short(l.topics[0]) : '(anonymous)', args: '' }
      const args = parsed.fragment.inputs.map((input, i) => {
        const v = parsed.args[i]
        // Tensor[] arguments (inputs, outputs) as name: dtype[shape], like the inference calls above
        if (input.baseType === 'array' && input.arrayChildren?.baseType === 'tuple')
          return `${input.name}=[${[...v].map((t) => `${t[0]}: ${dtypeName(Number(t[1]))}[${[...t[2]].join(',')}]`).join('; ')}]`
        return `${input.name}=${String(v)}`
      })
      return { address: l.address, event: `${name}.${parsed.name}`, args: args.join(' ') }
    }),
  )
}

/** The function a call selects: its name for Lattice's contracts, else the 4-byte selector. */
async function methodName(to, input) {
  if (input.length < 10) return input === '0x' ? 'transfer' : input
  const selector = input.slice(0, 10)
  const name = SYSTEM_CONTRACTS[to.toLowerCase()]
  if (!name) return selector
  const fn = (await contract(name).catch(() => null))?.getFunction(selector)
  return fn ? `${name}.${fn.name}` : selector
}

/** A transaction, with its decoded inference calls and internal operations. */
export async function txView(hash) {
  const [tx, receipt] = await Promise.all([
    call('eth_getTransactionByHash', [hash]),
    call('eth_getTransactionReceipt', [hash]),
  ])
  if (!tx) return html`<h1>Transaction</h1><p class="error">No transaction ${hash} on this chain.</p>`
  if (!receipt) return html`<h1>Transaction</h1><p>${hash} is pending.</p>`
  const [ops, errData, decoded] = await Promise.all([
    call('ots_getInternalOperations', [hash]).catch(() => []),
    receipt.status === '0x1' ? '0x' : call('ots_getTransactionError', [hash]).catch(() => '0x'),
    inferenceCalls(hash),
  ])
  const reason = await revertText(errData)
  const events = await eventRows(receipt.logs)
  const modelIds = [...new Set(decoded.calls.map((c) => c.modelId).filter(Boolean))]
  const models = await batch(modelIds.map((id) => ['lattice_getModel', [id]]))
  const nameOf = new Map(modelIds.map((id, i) => [id, models[i] && !(models[i] instanceof Error) ? models[i] : null]))
  const fee = BigInt(receipt.gasUsed) * BigInt(receipt.effectiveGasPrice)
  const method = tx.to ? await methodName(tx.to, tx.input) : 'contract creation'
  return html`
    <h1>Transaction</h1>
    ${fields([
      ['Hash', html`<span class="mono" data-testid="tx-hash">${tx.hash}</span>`],
      ['Status', html`${status(receipt)}${reason ? html` <span class="error">${reason}</span>` : ''}`],
      ['Block', html`${blockLink(tx.blockNumber)} (position ${num(tx.transactionIndex)})`],
      ['From', addrLink(tx.from, 20)],
      ['To', tx.to ? addrLink(tx.to, 20) : html`contract creation: ${addrLink(receipt.contractAddress, 20)}`],
      ['Value', eth(tx.value)],
      ['Method', method],
      ['Gas used / limit', `${int(receipt.gasUsed)} / ${int(tx.gas)}`],
      ['Fee', eth(fee)],
      ['Nonce', num(tx.nonce)],
      ['Logs', receipt.logs.length],
    ])}
    <h2>Inference calls</h2>
    ${
      decoded.calls.length === 0
        ? html`<p class="muted">This transaction ran no inference.</p>`
        : html`<table class="list stack" id="inference-calls">
          <thead><tr><th>Model</th><th>Inputs</th><th>Outputs</th><th>FLOPs</th><th>Gas</th><th>Output hash</th><th>Proof</th></tr></thead>
          <tbody>${decoded.calls.map((c) => {
            const m = c.modelId ? nameOf.get(c.modelId) : null
            const rec = c.records[0]
            return html`<tr>
              <td data-label="Model"><div>${c.modelId ? modelLink(c.modelId, m ? `${m.name} v${m.version}` : short(c.modelId)) : '?'}<div class="muted">${c.method}${c.error ? html` ${badge(c.error, 'bad')}` : ''}</div></div></td>
              <td data-label="Inputs">${tensors(c.inputs)}</td>
              <td data-label="Outputs">${tensors(c.outputs)}</td>
              <td data-label="FLOPs" data-testid="inf-flops">${rec ? int(rec.record.flops) : '—'}</td>
              <td data-label="Gas">${int(c.gasUsed)}</td>
              <td data-label="Output hash">${rec ? html`<span class="mono" title="${rec.record.outputHash}">${short(rec.record.outputHash)}</span>` : '—'}</td>
              <td data-label="Proof"><div>${c.records.map((r) => html`<a href="#/proof/${hash}/${num(r.record.index)}">proof #${num(r.record.index)}</a> `)}</div></td>
            </tr>`
          })}</tbody></table>`
    }
    <h2>Events</h2>
    ${
      events.length === 0
        ? html`<p class="muted">None.</p>`
        : html`<table class="list" id="events"><thead><tr><th>Contract</th><th>Event</th><th>Arguments</th></tr></thead><tbody>${events.map(
            (e) => html`<tr><td>${addrLink(e.address)}</td><td>${e.event}</td><td class="mono">${e.args}</td></tr>`,
          )}</tbody></table>`
    }
    <h2>Internal operations</h2>
    ${
      ops.length === 0
        ? html`<p class="muted">None.</p>`
        : html`<table class="list"><thead><tr><th>Kind</th><th>From</th><th>To</th><th>Value</th></tr></thead><tbody>${ops.map(
            (o) =>
              html`<tr><td>${['transfer', 'self-destruct', 'create', 'create2'][o.type]}</td><td>${addrLink(o.from)}</td><td>${addrLink(o.to)}</td><td>${eth(o.value)}</td></tr>`,
          )}</tbody></table>`
    }`
}

/** An address: balance, code, creator, and its transactions (ots_searchTransactionsBefore, paged). */
export async function addressView(addr, before = 0) {
  const [balance, nonce, code, creator, models] = await batch([
    ['eth_getBalance', [addr, 'latest']],
    ['eth_getTransactionCount', [addr, 'latest']],
    ['eth_getCode', [addr, 'latest']],
    ['ots_getContractCreator', [addr]],
    ['lattice_listModels', [{ owner: addr, limit: 100 }]],
  ])
  const page = await call('ots_searchTransactionsBefore', [addr, before, 25])
  const isContract = typeof code === 'string' && code !== '0x'
  const oldest = page.txs.at(-1)
  return html`
    <h1>${isContract ? 'Contract' : 'Account'}</h1>
    ${fields([
      ['Address', html`<span class="mono" data-testid="address">${addr}</span>`],
      ['Balance', balance instanceof Error ? '—' : eth(balance)],
      ['Nonce', nonce instanceof Error ? '—' : num(nonce)],
      isContract && ['Code', `${(code.length - 2) / 2} bytes`],
      creator &&
        !(creator instanceof Error) && ['Created by', html`${addrLink(creator.creator)} in ${txLink(creator.hash)}`],
      addr.toLowerCase() === PRECOMPILE && ['Role', 'the inference precompile'],
      models &&
        !(models instanceof Error) &&
        models.total > 0 && [
          'Models owned',
          html`${models.models.map((m) => html`${modelLink(m.modelId, `${m.name} v${m.version}`)} `)}`,
        ],
    ])}
    <h2>Transactions</h2>
    <table class="list" id="address-txs">
      <thead><tr><th>Hash</th><th>Block</th><th>From → To</th><th class="wide">Value</th><th>Status</th></tr></thead>
      <tbody>${
        page.txs.length === 0
          ? html`<tr><td colspan="5" class="muted">No transactions touch this address.</td></tr>`
          : page.txs.map(
              (t, i) =>
                html`<tr><td>${txLink(t.hash)}</td><td>${blockLink(t.blockNumber)}</td><td>${addrLink(t.from, 4)} → ${t.to ? addrLink(t.to, 4) : 'create'}</td><td class="wide">${eth(t.value)}</td><td>${status(page.receipts[i])}</td></tr>`,
            )
      }</tbody>
    </table>
    <nav class="pager">${before ? html`<a href="#/address/${addr}">newest</a>` : ''} ${!page.lastPage && oldest ? html`<a href="#/address/${addr}/before/${num(oldest.blockNumber)}">older →</a>` : ''}</nav>`
}
