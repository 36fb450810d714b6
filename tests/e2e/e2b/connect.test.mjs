// The in-sandbox plane's protocol, raw (gateway/e2b/e2b_envd.c and
// e2b_connect.c): what the SDKs rely on and what a bad client gets.
import { test, before } from 'node:test'
import assert from 'node:assert/strict'
import { API_URL } from './lib.mjs'
import { box, envdHeaders, envelope, unenvelope } from './proc_lib.mjs'

let sb, other

before(async () => {
  [sb, other] = await Promise.all([box(), box()])
})

const JSON_CT = { 'Content-Type': 'application/json' }
const STREAM_CT = { 'Content-Type': 'application/connect+json' }

async function call(path, { headers = {}, body = '{}', method = 'POST', box: b = sb } = {}) {
  const res = await fetch(API_URL + path, { method, headers: { ...envdHeaders(b), ...headers },
                                            body: method === 'GET' ? undefined : body })
  const buf = Buffer.from(await res.arrayBuffer())
  let json = null
  try { json = JSON.parse(buf.toString()) } catch { /* a stream, or empty */ }
  return { status: res.status, ctype: res.headers.get('content-type'), buf, json }
}

test('GET /health: 204 for a live sandbox, 502 for an unknown one', async () => {
  assert.equal((await call('/health', { method: 'GET' })).status, 204)
  const res = await fetch(API_URL + '/health', { headers: { 'E2b-Sandbox-Id': 'no-such-sandbox' } })
  assert.equal(res.status, 502)
})

test('an unknown or invalid sandbox id is 502 with the proxy error', async () => {
  for (const id of ['no-such-sandbox', '../etc', 'x'.repeat(200)]) {
    const res = await fetch(API_URL + '/process.Process/List', {
      method: 'POST', headers: { 'E2b-Sandbox-Id': id, ...JSON_CT }, body: '{}' })
    assert.equal(res.status, 502, id)
    const j = await res.json()
    assert.equal(j.code, 502)
    assert.equal(j.message, 'The sandbox was not found')
  }
})

test('the access token: missing, wrong, or another sandbox\'s is 401 unauthenticated', async () => {
  const tokens = [undefined, 'f'.repeat(40), other.envdAccessToken]
  assert.notEqual(other.envdAccessToken, sb.envdAccessToken)
  for (const t of tokens) {
    const headers = { 'E2b-Sandbox-Id': sb.sandboxId, ...JSON_CT }
    if (t) headers['X-Access-Token'] = t
    const res = await fetch(API_URL + '/process.Process/List', { method: 'POST', headers, body: '{}' })
    assert.equal(res.status, 401)
    assert.equal((await res.json()).code, 'unauthenticated')
  }
})

test('a unary call answers application/json; a stream is enveloped and ends with 0x02', async () => {
  const list = await call('/process.Process/List', { headers: JSON_CT })
  assert.equal(list.status, 200)
  assert.match(list.ctype, /^application\/json/)
  assert.ok(Array.isArray(list.json.processes))

  const start = await call('/process.Process/Start', {
    headers: STREAM_CT, body: envelope({ process: { cmd: '/bin/echo', args: ["it's", 'a b'] } }) })
  assert.equal(start.status, 200)
  assert.equal(start.ctype, 'application/connect+json')
  const msgs = unenvelope(start.buf)
  assert.ok(msgs[0].json.event.start.pid > 0)
  const data = msgs.filter((m) => m.json.event?.data).map((m) =>
    Buffer.from(m.json.event.data.stdout, 'base64').toString()).join('')
  assert.equal(data, "it's a b\n")   // argv passed exactly, quotes and spaces kept
  const end = msgs.at(-2).json.event.end
  assert.deepEqual(end, { exitCode: 0, exited: true, status: 'exit status 0' })
  assert.equal(msgs.at(-1).flags, 2)
  assert.deepEqual(msgs.at(-1).json, {})
})

test('a wrong content type is 415 with a Connect error', async () => {
  for (const [path, ct] of [['/process.Process/List', 'text/plain'],
                            ['/process.Process/List', 'application/connect+json'],
                            ['/process.Process/Start', 'application/json'],
                            ['/process.Process/List', 'application/proto']]) {
    const r = await call(path, { headers: { 'Content-Type': ct } })
    assert.equal(r.status, 415, `${path} ${ct}`)
    assert.equal(typeof r.json.code, 'string')
    assert.match(r.json.message, /Content-Type/)
  }
})

test('an unknown method is 404 unimplemented; GET on a method is refused', async () => {
  const r = await call('/process.Process/Explode', { headers: JSON_CT })
  assert.equal(r.status, 404)
  assert.equal(r.json.code, 'unimplemented')
  const g = await call('/process.Process/List', { method: 'GET' })
  assert.equal(g.status, 405)
})

test('malformed messages are invalid_argument', async () => {
  for (const body of ['{"process":', '[1,2]', '"x"', '{"a":' + '['.repeat(100) + ']'.repeat(100) + '}']) {
    const r = await call('/process.Process/List', { headers: JSON_CT, body })
    assert.equal(r.status, 400, body.slice(0, 20))
    assert.equal(r.json.code, 'invalid_argument')
  }
  const good = envelope({ process: { cmd: 'true' } })
  const bad = [
    good.subarray(0, 3),                                  // shorter than the head
    Buffer.concat([good, Buffer.from('x')]),              // length disagrees
    Buffer.concat([Buffer.from([1]), good.subarray(1)]),  // compressed
    envelope({ process: { cmd: 'true' } }, 2),            // end-stream from the client
    envelope({ process: { cmd: '' } }),                   // no command
    envelope({ process: { cmd: 'true', args: [1] } }),    // args not strings
    envelope({ process: { cmd: 'true' }, pty: { size: { cols: 0, rows: 9 } } }),
  ]
  for (const body of bad) {
    const r = await call('/process.Process/Start', { headers: STREAM_CT, body })
    assert.equal(r.status, 200)   // a stream's error travels in its end message
    const last = unenvelope(r.buf).at(-1)
    assert.equal(last.flags, 2)
    assert.equal(last.json.error.code, 'invalid_argument', JSON.stringify(last.json))
    assert.ok(last.json.error.message.length > 0)
  }
})

test('an oversized body is refused before it is read', async () => {
  const big = '{"x":"' + 'a'.repeat(5 << 20) + '"}'
  const r = await call('/process.Process/SendInput', { headers: JSON_CT, body: big }).catch((e) => ({ status: 'reset', e }))
  assert.ok(r.status === 413 || r.status === 'reset', `got ${r.status}`)
  if (r.status === 413) assert.equal(r.json.code, 'resource_exhausted')
})

test('an unknown pid or tag is not_found, in a unary answer and in a stream', async () => {
  const sig = await call('/process.Process/SendSignal', {
    headers: JSON_CT, body: JSON.stringify({ process: { pid: 999999 }, signal: 'SIGNAL_SIGKILL' }) })
  assert.equal(sig.status, 404)
  assert.equal(sig.json.code, 'not_found')
  const conn = await call('/process.Process/Connect', {
    headers: STREAM_CT, body: envelope({ process: { tag: 'nobody' } }) })
  assert.equal(unenvelope(conn.buf).at(-1).json.error.code, 'not_found')
})

test('a tagged process is found by its tag; List shows its argv', async () => {
  const start = fetch(API_URL + '/process.Process/Start', {
    method: 'POST', headers: { ...envdHeaders(sb), ...STREAM_CT },
    body: envelope({ process: { cmd: '/bin/sleep', args: ['30'] }, tag: 'napper' }) })
  const res = await start
  const reader = res.body.getReader()
  await reader.read()   // the start event
  const list = await call('/process.Process/List', { headers: JSON_CT })
  const p = list.json.processes.find((x) => x.tag === 'napper')
  assert.ok(p, JSON.stringify(list.json))
  assert.deepEqual([p.config.cmd, p.config.args], ['/bin/sleep', ['30']])
  const kill = await call('/process.Process/SendSignal', {
    headers: JSON_CT, body: JSON.stringify({ process: { tag: 'napper' }, signal: 'SIGNAL_SIGTERM' }) })
  assert.equal(kill.status, 200)
  let rest = Buffer.alloc(0)
  for (;;) {
    const { value, done } = await reader.read()
    if (done) break
    rest = Buffer.concat([rest, Buffer.from(value)])
  }
  const end = unenvelope(rest).find((m) => m.json.event?.end).json.event.end
  assert.equal(end.status, 'signal: terminated')
  assert.equal(end.exited, false)
})

test('Connect-Timeout-Ms that is not a number is invalid_argument', async () => {
  const r = await call('/process.Process/List', { headers: { ...JSON_CT, 'Connect-Timeout-Ms': 'soon' } })
  assert.equal(r.status, 400)
  assert.match(r.json.message, /Connect-Timeout-Ms/)
})

test('a quiet stream carries keepalive events at the asked interval', async () => {
  const r = await call('/process.Process/Start', {
    headers: { ...STREAM_CT, 'Keepalive-Ping-Interval': '1' },
    body: envelope({ process: { cmd: '/bin/sleep', args: ['3.5'] } }) })
  const kinds = unenvelope(r.buf).map((m) => Object.keys(m.json.event ?? { eos: 1 })[0])
  assert.equal(kinds[0], 'start')
  assert.ok(kinds.filter((k) => k === 'keepalive').length >= 2, kinds.join(','))
  assert.deepEqual(kinds.slice(-2), ['end', 'eos'])
})

test('Start\'s deadline kills the process and ends the stream with deadline_exceeded, not an exit', async () => {
  // envd ends the stream with its context's deadline; the SDKs raise that
  // as TimeoutError. An end event ("signal: killed") raced the SDK's own
  // timer and, when it won on a loaded host, the SDK reported an exit.
  const t0 = Date.now()
  const r = await call('/process.Process/Start', {
    headers: { ...STREAM_CT, 'Connect-Timeout-Ms': '1500' },
    body: envelope({ process: { cmd: '/bin/sh', args: ['-c', 'echo $$ > /tmp/deadline.pid; exec sleep 30'] } }) })
  assert.ok(Date.now() - t0 >= 1400)
  const msgs = unenvelope(r.buf)
  assert.ok(msgs[0].json.event.start.pid > 0)
  assert.ok(!msgs.some((m) => m.json.event && m.json.event.end), JSON.stringify(msgs))
  assert.equal(msgs.at(-1).json.error.code, 'deadline_exceeded')
  const pid = msgs[0].json.event.start.pid
  const list = await call('/process.Process/List', { headers: JSON_CT })
  assert.ok(!list.json.processes.some((p) => p.pid === pid), 'killed at the deadline')
})

test('Connect\'s deadline ends the stream, not the process', async () => {
  const start = await fetch(API_URL + '/process.Process/Start', {
    method: 'POST', headers: { ...envdHeaders(sb), ...STREAM_CT },
    body: envelope({ process: { cmd: '/bin/sleep', args: ['30'] }, tag: 'lasting' }) })
  const reader = start.body.getReader()
  const first = unenvelope(Buffer.from((await reader.read()).value))
  const pid = first[0].json.event.start.pid
  const t0 = Date.now()
  const conn = await call('/process.Process/Connect', {
    headers: { ...STREAM_CT, 'Connect-Timeout-Ms': '1500' },
    body: envelope({ process: { pid } }) })
  assert.ok(Date.now() - t0 >= 1400)
  const msgs = unenvelope(conn.buf)
  assert.equal(msgs[0].json.event.start.pid, pid)
  assert.equal(msgs.at(-1).json.error.code, 'deadline_exceeded')
  const list = await call('/process.Process/List', { headers: JSON_CT })
  assert.ok(list.json.processes.some((p) => p.pid === pid), 'still running')
  await call('/process.Process/SendSignal', {
    headers: JSON_CT, body: JSON.stringify({ process: { pid }, signal: 'SIGNAL_SIGKILL' }) })
  await reader.cancel()
})
