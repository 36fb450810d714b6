// Twenty E2B sandboxes created and used at once from one SDK process: each
// must answer for itself (its own hostname, its own file), none may see
// another's work, all are gone after kill, and the daemon still answers.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Sandbox, sandbox, hb, HB_URL } from './lib.mjs'

const N = 20
const FILE = '/tmp/hivebox-concurrency.txt'

// One sandbox's whole life but creation: a command that prints its id (the
// hostname of a HiveBox sandbox is its id), a file written through the SDK
// and read back both through a command and through the SDK.
async function use(sb, i) {
  const mark = `sandbox ${i} of ${N}: ${sb.sandboxId}\n`
  const who = await sb.commands.run('hostname')
  await sb.files.write(FILE, mark)
  const cat = await sb.commands.run(`cat ${FILE}`)
  const back = await sb.files.read(FILE)
  return { id: sb.sandboxId, hostname: who.stdout.trim(), cat: cat.stdout, back, mark }
}

test(`${N} sandboxes created, used and killed in parallel`, { timeout: 300_000 }, async () => {
  const before = await hb('GET', '/api/v1/hiveboxes')
  assert.equal(before.status, 200, before.text)

  const sbs = await Promise.all(Array.from({ length: N }, () => sandbox()))
  const ids = sbs.map((sb) => sb.sandboxId)
  assert.equal(new Set(ids).size, N, `ids not distinct: ${ids}`)

  // Ordinary HiveBox sandboxes: every one is in HiveBox's own list.
  const listed = await hb('GET', '/api/v1/hiveboxes')
  assert.equal(listed.status, 200, listed.text)
  const hbIds = new Set(listed.json.sandboxes.map((s) => s.id))
  for (const id of ids) assert.ok(hbIds.has(id), `${id} not in GET /api/v1/hiveboxes`)

  const results = await Promise.all(sbs.map((sb, i) => use(sb, i)))
  for (const r of results) {
    assert.equal(r.hostname, r.id, `sandbox ${r.id} says its hostname is ${r.hostname}`)
    assert.equal(r.cat, r.mark, `sandbox ${r.id}: cat gave another file`)
    assert.equal(r.back, r.mark, `sandbox ${r.id}: files.read gave another file`)
  }

  const killed = await Promise.allSettled(sbs.map((sb) => sb.kill()))
  const failed = killed.filter((k) => k.status === 'rejected')
  assert.equal(failed.length, 0, `kill failed: ${failed.map((k) => k.reason)}`)

  // All gone, seen from both APIs, and the daemon still answers.
  const after = await hb('GET', '/api/v1/hiveboxes')
  assert.equal(after.status, 200, after.text)
  const left = after.json.sandboxes.map((s) => s.id).filter((id) => ids.includes(id))
  assert.deepEqual(left, [], 'killed sandboxes still listed by HiveBox')
  for (const id of ids.slice(0, 3)) {
    await assert.rejects(Sandbox.connect(id), (err) => err.name === 'SandboxNotFoundError' ||
      /not found/i.test(err.message), `connect to killed ${id} did not fail as not found`)
  }
  const health = await fetch(HB_URL + '/healthz')
  assert.equal(health.status, 200)
  const fresh = await sandbox()
  assert.equal((await fresh.commands.run('echo still here')).stdout, 'still here\n')
})
