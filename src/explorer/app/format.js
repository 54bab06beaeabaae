// Formatting: an HTML template tag that escapes every value, numbers, amounts, hashes and links.

class Html {
  constructor(s) {
    this.s = s
  }
  toString() {
    return this.s
  }
}

const ESC = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

/** Escape text for HTML. */
export const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ESC[c])

function render(v) {
  if (v instanceof Html) return v.s
  if (Array.isArray(v)) return v.map(render).join('')
  if (v === null || v === undefined || v === false) return ''
  return esc(v)
}

/** Template tag: interpolated values are escaped unless they are html`` results themselves. */
export function html(strings, ...values) {
  let out = strings[0]
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1]
  return new Html(out)
}

/** A hex quantity as a bigint (null stays null). */
export const big = (h) => (h === null || h === undefined ? null : BigInt(h))
/** A hex quantity as a number. */
export const num = (h) => Number(BigInt(h))

/** 1234567 -> "1,234,567". */
export const int = (v) => BigInt(v).toLocaleString('en-US')

/** Wei as ETH with up to 6 decimals. */
export function eth(wei) {
  const w = BigInt(wei)
  const whole = w / 10n ** 18n
  const frac = (w % 10n ** 18n).toString().padStart(18, '0').slice(0, 6).replace(/0+$/, '')
  return `${whole.toLocaleString('en-US')}${frac ? `.${frac}` : ''} ETH`
}

/** A byte count for people. */
export function bytes(n) {
  if (n === null || n === undefined) return '—'
  const v = Number(n)
  if (v < 1024) return `${v} B`
  if (v < 1024 * 1024) return `${(v / 1024).toFixed(1)} KiB`
  return `${(v / 1024 / 1024).toFixed(1)} MiB`
}

/** 0x1234…abcd */
export const short = (h, n = 6) => (h && h.length > 2 * n + 4 ? `${h.slice(0, n + 2)}…${h.slice(-n)}` : h)

/** Seconds since a unix timestamp, as "12 s ago". */
export function ago(ts) {
  const s = Math.max(0, Math.floor(Date.now() / 1000) - Number(ts))
  if (s < 60) return `${s} s ago`
  if (s < 3600) return `${Math.floor(s / 60)} min ago`
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`
  return `${Math.floor(s / 86400)} d ago`
}

export const blockLink = (n) => html`<a href="#/block/${num(n)}">${num(n)}</a>`
export const txLink = (h, n) => html`<a class="mono" href="#/tx/${h}" title="${h}">${short(h, n)}</a>`
export const addrLink = (a, n) =>
  a ? html`<a class="mono" href="#/address/${a.toLowerCase()}" title="${a}">${short(a.toLowerCase(), n)}</a>` : '—'
export const modelLink = (id, label) => html`<a href="#/model/${id}" title="${id}">${label ?? short(id)}</a>`

/** A definition list from [label, value] pairs (values may be html``). */
export const fields = (rows) =>
  html`<dl class="fields">${rows.filter(Boolean).map(([k, v]) => html`<dt>${k}</dt><dd>${v ?? '—'}</dd>`)}</dl>`

/** A status badge. */
export const badge = (text, kind) => html`<span class="badge ${kind}">${text}</span>`
