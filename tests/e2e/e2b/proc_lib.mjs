// Shared by commands, pty and connect tests (the envd helper's files).
// A sandbox for them: Sandbox.create through E2B's control plane, or, in a
// build without it (the control plane answers 404), an ordinary HiveBox
// sandbox made through the REST API and handed to the SDK the way
// Sandbox.create would (its id, envd version and envd access token).
// Either way the image may lack E2B's default user `user` (the image
// change adds it for new builds): it is created as root first.
import { after } from 'node:test'
import { createHash, randomBytes } from 'node:crypto'
import { Sandbox, sandbox, hb, API_URL } from './lib.mjs'

export const ENVD_VERSION = '0.5.7'
const made = []

after(async () => {
  await Promise.allSettled(made.map((id) => hb('DELETE', `/api/v1/hiveboxes/${id}`)))
})

// The sandbox's envd token, as gateway/e2b/e2b_token.c derives it.
export function envdToken(mcpToken) {
  return createHash('sha256').update('hivebox envd token\n' + mcpToken).digest('hex').slice(0, 40)
}

async function controlPlane() {
  const res = await fetch(API_URL + '/sandboxes', { headers: { 'X-API-KEY': 'probe' } })
  return res.status !== 404
}

async function restSandbox() {
  const name = 'e2b-envd-' + randomBytes(4).toString('hex')
  const r = await hb('POST', '/api/v1/hiveboxes', { name })
  if (r.status !== 201 && r.status !== 200) throw new Error(`create ${name}: ${r.status} ${r.text}`)
  made.push(name)
  return new Sandbox({ sandboxId: name, envdVersion: ENVD_VERSION,
                       envdAccessToken: envdToken(r.json.mcp_token) })
}

export async function ensureUser(sb) {
  await sb.commands.run('id -u user >/dev/null 2>&1 || useradd -m -u 1000 -s /bin/bash user',
                        { user: 'root' })
}

export async function box() {
  const sb = (await controlPlane()) ? await sandbox() : await restSandbox()
  await ensureUser(sb)
  return sb
}

// The raw envd request the SDK would send, for the protocol tests.
export function envdHeaders(sb, extra = {}) {
  return { 'E2b-Sandbox-Id': sb.sandboxId, 'X-Access-Token': sb.envdAccessToken, ...extra }
}

export function envelope(msg, flags = 0) {
  const body = Buffer.from(JSON.stringify(msg))
  const head = Buffer.alloc(5)
  head[0] = flags
  head.writeUInt32BE(body.length, 1)
  return Buffer.concat([head, body])
}

// A server stream's enveloped messages: [{flags, json}].
export function unenvelope(buf) {
  const out = []
  for (let at = 0; at + 5 <= buf.length;) {
    const n = buf.readUInt32BE(at + 1)
    out.push({ flags: buf[at], json: JSON.parse(buf.subarray(at + 5, at + 5 + n).toString()) })
    at += 5 + n
  }
  return out
}
