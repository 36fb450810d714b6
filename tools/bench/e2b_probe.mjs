// The E2B layer's cost (bench_e2b.py runs this): the official E2B JS SDK
// (tests/e2e/e2b/node_modules, configured only by E2B_API_URL,
// E2B_SANDBOX_URL and E2B_API_KEY as a user would) beside the same steps
// through HiveBox's own REST API, from the same node process with the same
// fetch, rounds interleaved so that a busy machine moves both sides alike.
//
//   node e2b_probe.mjs ROUNDS FILE_MIB FILE_REPS
//   env: E2B_API_URL, E2B_SANDBOX_URL, E2B_API_KEY, HIVEBOX_URL, HIVEBOX_KEY,
//        E2B_BENCH_TEMPLATE (default base), E2B_BENCH_REST_CREATE (the REST
//        create body beside Sandbox.create, JSON, default {}: the daemon's
//        defaults, as the E2B layer's create uses them)
//
// Prints one JSON line: {"skip": why} when the E2B routes answer 404, else
// the samples in ms and the MB/s of each side. Timings are reported, never
// judged; only a failed call makes {"error": ...} (and a non-zero exit).
import { randomBytes } from 'node:crypto'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const SDK = join(REPO, 'tests', 'e2e', 'e2b', 'node_modules', 'e2b', 'dist', 'index.mjs')
const HB_URL = process.env.HIVEBOX_URL
const HB_KEY = process.env.HIVEBOX_KEY
const TEMPLATE = process.env.E2B_BENCH_TEMPLATE || 'base'
const REST_CREATE = JSON.parse(process.env.E2B_BENCH_REST_CREATE || '{}')
const FILE_PATH = '/tmp/hivebox-bench.bin'

const now = () => Number(process.hrtime.bigint()) / 1e6

async function timed(fn) {
  const t0 = now()
  const r = await fn()
  return [now() - t0, r]
}

// ---- HiveBox's REST API ---------------------------------------------------

async function hb(method, path, body, raw = false) {
  const headers = { Authorization: `Bearer ${HB_KEY}` }
  if (body !== undefined && !raw) headers['Content-Type'] = 'application/json'
  const res = await fetch(HB_URL + '/api/v1' + path, {
    method,
    headers,
    body: body === undefined ? undefined : raw ? body : JSON.stringify(body),
  })
  const buf = new Uint8Array(await res.arrayBuffer())
  if (res.status >= 300) {
    throw new Error(`REST ${method} ${path}: HTTP ${res.status}: ${Buffer.from(buf).toString().slice(0, 300)}`)
  }
  return buf
}

const hbJson = async (...a) => JSON.parse(Buffer.from(await hb(...a)).toString())

// commands.run(cmd) starts `/bin/bash -l -c cmd` (the SDK's choice): a login
// shell costs tens of ms by itself. So beside exec `true` each round also
// times exec of that very command line as the same user (run_login, not in
// the round's total): the E2B layer's own share is run - run_login.
async function restExec(id, body) {
  const [t, out] = await timed(() => hbJson('POST', `/hiveboxes/${id}/exec`, body))
  if (out.exit_code !== 0) throw new Error(`REST exec ${body.command}: exit ${out.exit_code}`)
  return t
}

async function restRound() {
  const [create, made] = await timed(() => hbJson('POST', '/hiveboxes', REST_CREATE))
  const run = await restExec(made.id, { command: 'true' })
  const runLogin = await restExec(made.id, { command: '/bin/bash -l -c true',
                                             user: runOpts.user || 'user' })
  const [kill] = await timed(() => hb('DELETE', `/hiveboxes/${made.id}`))
  return { create, run, kill, run_login: runLogin }
}

// ---- the E2B SDK ----------------------------------------------------------

// commands.run's options: {} (the SDK's default user `user`), or
// {user: 'root'} when the image predates the default user (noted).
let runOpts = {}

async function sdkRound(Sandbox) {
  const [create, sb] = await timed(() => Sandbox.create(TEMPLATE))
  try {
    const [run, out] = await timed(() => sb.commands.run('true', runOpts))
    if (out.exitCode !== 0) throw new Error(`SDK commands.run true: exit ${out.exitCode}`)
    const [kill] = await timed(() => sb.kill())
    return { create, run, kill }
  } catch (err) {
    await sb.kill().catch(() => {})
    throw err
  }
}

// The image may predate the E2B default user (docs/e2b.md): measure as root
// then, and say so, rather than measure nothing.
async function pickUser(Sandbox, notes) {
  const sb = await Sandbox.create(TEMPLATE)
  try {
    await sb.commands.run('true')
  } catch (err) {
    if (!/user/i.test(String(err && err.message))) throw err
    runOpts = { user: 'root' }
    notes.push(`the image has no user 'user' (${String(err.message).slice(0, 120)}): ` +
               'commands.run measured with user root')
  } finally {
    await sb.kill().catch(() => {})
  }
}

function same(a, b) {
  return a.length === b.length && Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0
}

async function filesSdk(Sandbox, data, reps) {
  const sb = await Sandbox.create(TEMPLATE)
  const up = [], down = []
  try {
    for (let i = 0; i < reps; i++) {
      up.push((await timed(() => sb.files.write(FILE_PATH, data.buffer)))[0])
      const [t, got] = await timed(() => sb.files.read(FILE_PATH, { format: 'bytes' }))
      if (!same(got, data)) throw new Error(`SDK files.read: ${got.length} bytes differ from the ${data.length} written`)
      down.push(t)
    }
  } finally {
    await sb.kill().catch(() => {})
  }
  return { up, down }
}

async function filesRest(data, reps) {
  const { id } = await hbJson('POST', '/hiveboxes', REST_CREATE)
  const up = [], down = []
  const at = `/hiveboxes/${id}/files?path=${encodeURIComponent(FILE_PATH)}`
  try {
    for (let i = 0; i < reps; i++) {
      up.push((await timed(() => hb('PUT', at, data, true)))[0])
      const [t, got] = await timed(() => hb('GET', at))
      if (!same(got, data)) throw new Error(`REST GET files: ${got.length} bytes differ from the ${data.length} written`)
      down.push(t)
    }
  } finally {
    await hb('DELETE', `/hiveboxes/${id}`).catch(() => {})
  }
  return { up, down }
}

// ---- main -----------------------------------------------------------------

async function e2bRoutes() {
  const res = await fetch(process.env.E2B_API_URL + '/v2/sandboxes', {
    headers: { 'X-API-KEY': process.env.E2B_API_KEY },
  })
  await res.arrayBuffer()
  return res.status
}

async function main() {
  const [rounds, fileMib, fileReps] = process.argv.slice(2).map(Number)
  const status = await e2bRoutes()
  if (status === 404) return { skip: 'the E2B routes answer 404 (E2B compatibility not in this build)' }
  if (status !== 200) throw new Error(`GET /v2/sandboxes with the E2B key: HTTP ${status}`)
  const { Sandbox } = await import(pathToFileURL(SDK).href)
  const notes = []
  await pickUser(Sandbox, notes)
  await sdkRound(Sandbox)     // warm-up of both sides: connections, page cache
  await restRound()
  const sdk = [], rest = []
  for (let i = 0; i < rounds; i++) {
    // Alternate which side goes first, so neither always follows the other.
    if (i % 2) { rest.push(await restRound()); sdk.push(await sdkRound(Sandbox)) }
    else { sdk.push(await sdkRound(Sandbox)); rest.push(await restRound()) }
  }
  // The files figures are a section of their own: a failure there is
  // reported beside the rounds already measured, not instead of them.
  const data = new Uint8Array(randomBytes(fileMib * 1024 * 1024))
  let files = null, filesError = null
  try {
    files = { bytes: data.length, sdk: await filesSdk(Sandbox, data, fileReps),
              rest: await filesRest(data, fileReps) }
  } catch (err) {
    filesError = String(err && err.message || err).slice(0, 600)
  }
  return { template: TEMPLATE, run_opts: runOpts, sdk, rest, files, files_error: filesError, notes }
}

main().then(
  (out) => { console.log(JSON.stringify(out)) },
  (err) => { console.log(JSON.stringify({ error: String(err && err.stack || err).slice(0, 2000) })); process.exitCode = 1 },
)
