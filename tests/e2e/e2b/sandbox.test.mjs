// E2B's control plane through the real SDK: a sandbox's life (create,
// getInfo, list, setTimeout, connect, kill), checked from HiveBox's own API
// too, since E2B sandboxes are ordinary HiveBox sandboxes.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { AuthenticationError, SandboxNotFoundError } from 'e2b'

import { sandbox, Sandbox, hb, API_KEY } from './lib.mjs'

const tag = () => 't' + randomBytes(4).toString('hex')

test('create with the default template: an ordinary HiveBox sandbox with its limits', async () => {
  const sb = await Sandbox.create({ timeoutMs: 120_000 })   // no template: E2B's "base"
  try {
    const info = await sb.getInfo()
    assert.equal(info.templateId, 'base')
    assert.equal(info.sandboxId, sb.sandboxId)
    assert.equal(info.state, 'running')
    assert.ok(info.cpuCount >= 1 && info.memoryMB >= 128, JSON.stringify(info))
    assert.ok(info.endAt > info.startedAt)
    const span = (info.endAt - info.startedAt) / 1000
    assert.ok(span > 100 && span <= 121, `timeout 120 s, endAt - startedAt = ${span}`)
    const list = await hb('GET', '/api/v1/hiveboxes')
    const row = list.json.sandboxes.find((s) => s.id === sb.sandboxId)
    assert.ok(row, 'the E2B sandbox is in HiveBox\'s list')
    assert.equal(row.image, 'base')
    const one = await hb('GET', `/api/v1/hiveboxes/${sb.sandboxId}`)
    assert.equal(one.status, 200)
    assert.ok(one.json.limits && one.json.limits.memory, JSON.stringify(one.json))
    const mem = one.json.limits.memory.match(/^(\d+)([mg])$/)
    if (mem) assert.equal(info.memoryMB, Number(mem[1]) * (mem[2] === 'g' ? 1024 : 1))
  } finally {
    await sb.kill()
  }
})

test('metadata round trip and Sandbox.list by metadata, paged', async () => {
  const t = tag()
  const made = []
  for (let i = 0; i < 3; i++) {
    made.push(await sandbox({ metadata: { suite: t, n: String(i), 'a key': 'x&y=z' } }))
    await new Promise((r) => setTimeout(r, 1100))   // distinct start seconds
  }
  const info = await made[1].getInfo()
  assert.deepEqual(info.metadata, { suite: t, n: '1', 'a key': 'x&y=z' })

  const pager = Sandbox.list({ query: { metadata: { suite: t, 'a key': 'x&y=z' } }, limit: 2 })
  const first = await pager.nextItems()
  assert.equal(first.length, 2)
  assert.ok(pager.hasNext, 'a second page')
  const second = await pager.nextItems()
  assert.equal(second.length, 1)
  assert.equal(pager.hasNext, false)
  const ids = [...first, ...second].map((s) => s.sandboxId)
  assert.deepEqual(ids, made.map((s) => s.sandboxId).reverse())   // newest first
  for (const s of first) assert.equal(s.metadata.suite, t)

  const none = await Sandbox.list({ query: { metadata: { suite: t + 'x' } } }).nextItems()
  assert.deepEqual(none, [])
  const paused = await Sandbox.list({ query: { metadata: { suite: t }, state: ['paused'] } }).nextItems()
  assert.deepEqual(paused, [])
})

test('setTimeout moves the expiry HiveBox reports', async () => {
  const sb = await sandbox()
  await sb.setTimeout(90_000)
  const one = await hb('GET', `/api/v1/hiveboxes/${sb.sandboxId}`)
  assert.ok(one.json.ttl_seconds <= 90 && one.json.ttl_seconds > 70, JSON.stringify(one.json))
  const info = await sb.getInfo()
  assert.ok(Math.abs((info.endAt - Date.now()) / 1000 - 90) < 15, `${info.endAt}`)
  await assert.rejects(Sandbox.setTimeout('nope-' + tag(), 10_000), SandboxNotFoundError)
})

test('connect by id from a second Sandbox object and run a command through it', async () => {
  const sb = await sandbox({ envs: { HB_E2B_GREETING: 'from-create' } })
  const again = await Sandbox.connect(sb.sandboxId)
  assert.equal(again.sandboxId, sb.sandboxId)
  // as root: the image's `user` is the image helper's part, not this file's
  const r = await again.commands.run('echo "$HB_E2B_GREETING" && id -un', { user: 'root' })
  assert.equal(r.exitCode, 0)
  assert.equal(r.stdout, 'from-create\nroot\n')   // envVars seen by every command
  await assert.rejects(Sandbox.connect('nope-' + tag()), SandboxNotFoundError)
})

test('kill: gone from HiveBox; unknown ids answer false', async () => {
  const sb = await Sandbox.create({ timeoutMs: 60_000 })
  assert.equal(await sb.isRunning(), true)
  await sb.kill()
  const list = await hb('GET', '/api/v1/hiveboxes')
  assert.ok(!list.json.sandboxes.some((s) => s.id === sb.sandboxId))
  assert.equal(await Sandbox.kill(sb.sandboxId), false)
  assert.equal(await Sandbox.kill('nope-' + tag()), false)
  await assert.rejects(Sandbox.getInfo(sb.sandboxId), SandboxNotFoundError)
})

test('a wrong API key is an AuthenticationError', async () => {
  const wrong = 'e2b_' + (API_KEY.slice(4, 5) === '0' ? '1' : '0').repeat(40)
  await assert.rejects(Sandbox.create({ apiKey: wrong, timeoutMs: 10_000 }), AuthenticationError)
  await assert.rejects(Sandbox.list({ apiKey: wrong }).nextItems(), AuthenticationError)
})

test('pause, then connect resumes it (issue 17)', async () => {
  const sb = await sandbox()
  await sb.commands.run('echo kept > /dev/shm/mark')
  assert.equal(await sb.pause(), true)
  assert.equal(await sb.pause(), false)   // paused already
  const info = await Sandbox.getInfo(sb.sandboxId)
  assert.equal(info.state, 'paused')
  const again = await Sandbox.connect(sb.sandboxId)
  assert.equal((await again.commands.run('cat /dev/shm/mark')).stdout, 'kept\n')
  assert.equal(await again.isRunning(), true)
})

test('metrics come from HiveBox\'s samples', async () => {
  const sb = await sandbox()
  let rows = []
  for (let i = 0; i < 30 && rows.length === 0; i++) {
    rows = await sb.getMetrics()
    if (rows.length === 0) await new Promise((r) => setTimeout(r, 1000))
  }
  assert.ok(rows.length > 0, 'a sample within 30 s (one every 10 s)')
  const m = rows[rows.length - 1]
  assert.ok(m.timestamp instanceof Date && !isNaN(m.timestamp))
  assert.ok(m.memTotal > 0 && m.memUsed > 0 && m.memUsed <= m.memTotal, JSON.stringify(m))
  assert.ok(m.cpuCount >= 1 && m.cpuUsedPct >= 0 && m.diskTotal > 0, JSON.stringify(m))
})
