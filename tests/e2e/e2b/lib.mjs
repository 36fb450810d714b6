// Shared by the E2B scenarios (*.test.mjs): the SDK is configured only the
// way a user would, through E2B_API_URL, E2B_SANDBOX_URL and E2B_API_KEY,
// which tests/e2e/test_e2b.py sets to this run's daemon.
import { after } from 'node:test'
import { Sandbox } from 'e2b'

export { Sandbox }
export const API_URL = process.env.E2B_API_URL
export const API_KEY = process.env.E2B_API_KEY
// The daemon's own admin key and URL, for checks made through HiveBox's API.
export const HB_URL = process.env.HIVEBOX_URL
export const HB_KEY = process.env.HIVEBOX_KEY
// Its pid, to watch its memory.
export const HB_PID = Number(process.env.HIVEBOX_PID)
export const TEMPLATE = process.env.E2B_TEST_TEMPLATE || 'base'

if (!API_URL || !API_KEY) throw new Error('run through tests/e2e/test_e2b.py (E2B_API_URL unset)')

const made = []

// A sandbox killed after the file's tests, whatever they did.
export async function sandbox(opts = {}) {
  const sb = await Sandbox.create(TEMPLATE, { timeoutMs: 600_000, ...opts })
  made.push(sb)
  return sb
}

after(async () => {
  await Promise.allSettled(made.map((sb) => sb.kill()))
})

// HiveBox's REST API, to check what the E2B layer did from the other side.
export async function hb(method, path, body) {
  const res = await fetch(HB_URL + path, {
    method,
    headers: { Authorization: `Bearer ${HB_KEY}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await res.text()
  let json = null
  try { json = JSON.parse(text) } catch { /* not JSON */ }
  return { status: res.status, json, text, headers: res.headers }
}
