// The explorer's shell: hash routes, search, and the live head (eth_subscribe newHeads over WebSocket).
import { html, num } from './format.js'
import { batch, call, followHeads } from './rpc.js'
import { addressView, blockView, homeView, txView } from './views-chain.js'
import { modelsView, modelView, pinningView, proofView } from './views-lattice.js'

const view = document.getElementById('view')
const headLink = document.getElementById('head')
const live = document.getElementById('live')

/** Routes: #/<name>/<args...> */
const ROUTES = {
  '': () => homeView(),
  block: (id) => blockView(id),
  tx: (h) => txView(h),
  address: (a, _before, n) => addressView(a.toLowerCase(), n ? Number(n) : 0),
  models: (offset) => modelsView(offset ? Number(offset) : 0),
  model: (id) => modelView(id),
  proof: (tx, i) => proofView(tx, i ? Number(i) : 0),
  pinning: () => pinningView(),
  search: (q) => search(decodeURIComponent(q ?? '')),
}

let rendering = 0

/** Render the page the hash names; a newer navigation wins over one still loading. */
async function route() {
  const token = ++rendering
  const [name, ...args] = location.hash.replace(/^#\/?/, '').split('/')
  const fn = ROUTES[name]
  document.body.dataset.ready = ''
  const started = performance.now()
  let out
  try {
    out = fn ? await fn(...args) : html`<h1>Not found</h1><p>No page ${location.hash}.</p>`
  } catch (err) {
    out = html`<h1>Error</h1><p class="error">${err.message}</p>`
  }
  if (token !== rendering) return
  if (out !== undefined) view.innerHTML = String(out)
  document.body.dataset.route = name || 'home'
  document.body.dataset.renderMs = String(Math.round(performance.now() - started))
  // the first page drawn: milliseconds from the start of navigation (what a person waits for)
  document.body.dataset.loadMs ??= String(Math.round(performance.now()))
  document.body.dataset.ready = '1'
}

/** Where a search term leads: a block number, an address, a block/transaction/model hash, or a model name. */
async function search(q) {
  const term = q.trim()
  let to
  if (/^\d+$/.test(term)) to = `#/block/${term}`
  else if (/^0x[0-9a-fA-F]{40}$/.test(term)) to = `#/address/${term.toLowerCase()}`
  else if (/^0x[0-9a-fA-F]{64}$/.test(term)) {
    const [block, tx, model] = await batch([
      ['eth_getBlockByHash', [term, false]],
      ['eth_getTransactionByHash', [term]],
      ['lattice_getModel', [term]],
    ])
    if (tx && !(tx instanceof Error)) to = `#/tx/${term}`
    else if (block && !(block instanceof Error)) to = `#/block/${term}`
    else if (model && !(model instanceof Error)) to = `#/model/${term}`
  } else if (/^0x[0-9a-fA-F]{1,16}$/.test(term)) to = `#/block/${BigInt(term)}`
  else if (term) {
    const found = await call('lattice_listModels', [{ name: term, limit: 1 }]).catch(() => null)
    if (found?.models?.length) to = `#/model/${found.models[0].modelId}`
  }
  if (to) {
    location.replace(to)
    return undefined
  }
  return html`<h1>Search</h1><p>Nothing on this chain matches <span class="mono">${term}</span>. Try a block number, a block or transaction hash, an address, a model id or a model name.</p>`
}

document.getElementById('search').addEventListener('submit', (ev) => {
  ev.preventDefault()
  const q = document.getElementById('q').value
  location.hash = `#/search/${encodeURIComponent(q)}`
})

function showHead(n) {
  headLink.textContent = String(n)
  headLink.href = `#/block/${n}`
  document.body.dataset.head = String(n)
}

followHeads(
  (header) => {
    showHead(num(header.number))
    // the home page lists the latest blocks: draw it again with the new head
    if (document.body.dataset.route === 'home') route()
  },
  (state) => {
    live.dataset.state = state
  },
)
call('eth_blockNumber').then(
  (h) => showHead(num(h)),
  () => {},
)

window.addEventListener('hashchange', route)
route()
