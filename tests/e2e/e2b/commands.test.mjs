// commands.*: the SDK's process API over process.Process (gateway/e2b/e2b_proc*.c).
import { test, before } from 'node:test'
import assert from 'node:assert/strict'
import { CommandExitError, TimeoutError, SandboxError } from 'e2b'
import { hb, API_URL, HB_PID } from './lib.mjs'
import { createHash } from 'node:crypto'
import { box, envdHeaders, envelope } from './proc_lib.mjs'
import { readFileSync } from 'node:fs'

let sb

before(async () => {
  sb = await box()
})

test('output reaches the callbacks as it comes, and the result has all of it', async () => {
  const out = [], err = []
  const started = Date.now()
  let firstAt = 0
  const r = await sb.commands.run('echo one; echo two >&2; sleep 1.5; echo three', {
    onStdout: (d) => { out.push(d); firstAt ||= Date.now() },
    onStderr: (d) => err.push(d),
  })
  assert.equal(r.exitCode, 0)
  assert.equal(r.stdout, 'one\nthree\n')
  assert.equal(r.stderr, 'two\n')
  assert.equal(out.join(''), 'one\nthree\n')
  assert.equal(err.join(''), 'two\n')
  // "one" was delivered before the command slept, not with the end
  assert.ok(firstAt - started < 1400, `first stdout after ${firstAt - started} ms`)
})

test('a failing command raises CommandExitError carrying its output and code', async () => {
  await assert.rejects(sb.commands.run('echo partial; echo bad >&2; exit 7'), (e) => {
    assert.ok(e instanceof CommandExitError, `got ${e}`)
    assert.equal(e.exitCode, 7)
    assert.equal(e.stdout, 'partial\n')
    assert.equal(e.stderr, 'bad\n')
    assert.match(e.error, /exit status 7/)
    return true
  })
})

test('timeoutMs: the call fails with TimeoutError and the command is killed', async () => {
  const t0 = Date.now()
  await assert.rejects(sb.commands.run('echo $$ > /tmp/slow.pid; exec sleep 30', { timeoutMs: 1500 }),
                       (e) => e instanceof TimeoutError)
  assert.ok(Date.now() - t0 < 10_000)
  // envd kills the process at the request's timeout; so does HiveBox
  await new Promise((r) => setTimeout(r, 1000))
  const r = await sb.commands.run('kill -0 $(cat /tmp/slow.pid) 2>/dev/null && echo alive || echo gone')
  assert.equal(r.stdout.trim(), 'gone')
})

test('background: list, connect by pid, kill, and wait reports the signal', async () => {
  let said
  const saidStarted = new Promise((r) => { said = r })
  const h = await sb.commands.run('echo started; sleep 60', { background: true, onStdout: said })
  assert.ok(h.pid > 0)
  await saidStarted
  const listed = await sb.commands.list()
  const me = listed.find((p) => p.pid === h.pid)
  assert.ok(me, `pid ${h.pid} not in ${JSON.stringify(listed)}`)
  assert.equal(me.cmd, '/bin/bash')
  assert.deepEqual(me.args, ['-l', '-c', 'echo started; sleep 60'])

  const seen = []
  const again = await sb.commands.connect(h.pid, { onStdout: (d) => seen.push(d) })
  assert.equal(again.pid, h.pid)
  assert.equal(await sb.commands.kill(h.pid), true)
  await assert.rejects(again.wait(), (e) => {
    assert.ok(e instanceof CommandExitError, `got ${e}`)
    assert.equal(e.exitCode, -1)
    assert.match(e.error, /signal: killed/)
    return true
  })
  await assert.rejects(h.wait(), CommandExitError)
  assert.equal(h.stdout, 'started\n')
  assert.equal(await sb.commands.kill(h.pid), false, 'a second kill finds nothing')
  assert.ok(!(await sb.commands.list()).some((p) => p.pid === h.pid))
})

test('a client that disconnects leaves the command running', async () => {
  const h = await sb.commands.run('sleep 2; echo done-late > /tmp/late.txt', { background: true })
  await h.disconnect()
  const back = await sb.commands.connect(h.pid)
  const r = await back.wait()
  assert.equal(r.exitCode, 0)
  assert.equal((await sb.commands.run('cat /tmp/late.txt')).stdout, 'done-late\n')
})

test('stdin: sendStdin reaches the command, closeStdin ends it', async () => {
  const h = await sb.commands.run('cat', { background: true, stdin: true })
  await h.sendStdin('hello ')
  await sb.commands.sendStdin(h.pid, new TextEncoder().encode('world\n'))
  await h.closeStdin()
  const r = await h.wait()
  assert.equal(r.stdout, 'hello world\n')
})

test('envs, cwd and user', async () => {
  const def = await sb.commands.run('echo "$FOO|$(pwd)|$(whoami)|$HOME"', { envs: { FOO: 'b a"r' } })
  assert.equal(def.stdout, 'b a"r|/home/user|user|/home/user\n')
  const root = await sb.commands.run('echo "$(pwd)|$(whoami)"', { user: 'root' })
  assert.equal(root.stdout, '/root|root\n')
  const cwd = await sb.commands.run('pwd', { cwd: '/tmp' })
  assert.equal(cwd.stdout, '/tmp\n')
  const rel = await sb.commands.run('mkdir -p sub && cd sub && pwd && cd .. && pwd', {})
  assert.equal(rel.stdout, '/home/user/sub\n/home/user\n')
})

test('an unknown user or cwd is refused with a message naming it', async () => {
  await assert.rejects(sb.commands.run('true', { user: 'nosuchuser' }), (e) => {
    assert.ok(e instanceof SandboxError, `got ${e}`)
    assert.match(e.message, /nosuchuser/)
    return true
  })
  await assert.rejects(sb.commands.run('true', { cwd: '/no/such/dir' }), (e) => {
    assert.match(e.message, /\/no\/such\/dir/)
    return true
  })
})

test('several megabytes of output arrive complete and in order', async () => {
  // Faster than the SDK reads (about 10 MB/s), in bursts with pauses: the
  // stream holds the command back while the SDK lags (init's `hold`).
  const r = await sb.commands.run(
    'for i in $(seq 0 39); do seq $((i*10000+1)) $((i*10000+10000)); sleep 0.05; done')
  const lines = r.stdout.split('\n')
  assert.equal(lines.length, 400001)
  assert.equal(lines[0], '1')
  assert.equal(lines[123456], '123457')
  assert.equal(lines[399999], '400000')
  const big = await sb.commands.run(
    "for i in $(seq 60); do head -c 100000 /dev/zero | tr '\\0' x; sleep 0.005; done")
  assert.equal(big.stdout.length, 6_000_000)
  assert.ok(/^x+$/.test(big.stdout))
})

test('bytes that are not text pass through as the SDK decodes them', async () => {
  const r = await sb.commands.run("printf 'a\\000b\\303\\251\\n'")
  assert.equal(r.stdout, 'a\u0000bé\n')
})

test('a sandbox killed while a command streams makes the SDK say so', async () => {
  const doomed = await box()
  const h = await doomed.commands.run('while true; do echo tick; sleep 0.2; done', { background: true })
  await new Promise((r) => setTimeout(r, 500))
  const del = await hb('DELETE', `/api/v1/hiveboxes/${doomed.sandboxId}`)
  assert.ok(del.status === 200 || del.status === 204, `DELETE: ${del.status} ${del.text}`)
  await assert.rejects(h.wait(), (e) => {
    assert.ok(e instanceof TimeoutError, `got ${e?.constructor?.name}: ${e}`)
    return true
  })
  assert.ok(h.stdout.startsWith('tick\n'))
  // the next call meets the 502 of a sandbox that is gone
  await assert.rejects(doomed.commands.run('true'), (e) => e instanceof SandboxError)
  assert.equal(await doomed.isRunning(), false)
})

test('an instant burst of 40 MB arrives complete: the command waits for its reader', async (t) => {
  const cmd = 'head -c 30000000 /dev/zero | base64 -w 76'
  const want = (await sb.commands.run(`${cmd} | sha256sum`)).stdout.split(' ')[0]
  const t0 = Date.now()
  const r = await sb.commands.run(cmd)
  t.diagnostic(`40.5 MB in ${Date.now() - t0} ms`)
  assert.equal(r.stdout.length, 40_526_316)   // 40,000,000 base64 chars + 526,316 newlines
  assert.equal(createHash('sha256').update(r.stdout).digest('hex'), want)
  const seq = await sb.commands.run('seq 1 600000')
  const lines = seq.stdout.split('\n')
  assert.equal(lines.length, 600001)
  assert.equal(lines[299999], '300000')
  assert.equal(lines[599999], '600000')
})

// The daemon under test (tests/e2e/test_e2b.py passes its pid).
function daemonPid() {
  assert.ok(HB_PID > 0, 'HIVEBOX_PID is not set')
  return HB_PID
}

function rssMiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return Number(m[1]) / 1024
}

async function outputEnd(box, pid) {
  const r = await hb('GET', `/api/v1/hiveboxes/${box.sandboxId}/processes/${pid}`)
  assert.equal(r.status, 200, r.text)
  return r.json.output.end
}

async function quick(box, label) {
  const t0 = Date.now()
  const r = await box.commands.run('echo ok')
  assert.equal(r.stdout, 'ok\n')
  assert.ok(Date.now() - t0 < 3000, `${label}: ${Date.now() - t0} ms`)
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

test('a client that stops reading holds only its own command, and leaving frees it', async (t) => {
  const other = await box()
  const daemon = daemonPid()
  const rss0 = rssMiB(daemon)
  const ctl = new AbortController()
  const res = await fetch(API_URL + '/process.Process/Start', {
    method: 'POST', signal: ctl.signal,
    headers: { ...envdHeaders(sb), 'Content-Type': 'application/connect+json' },
    body: envelope({ process: { cmd: '/bin/sh', args: ['-c', 'yes hostile-client-output'] } }) })
  assert.equal(res.status, 200)
  const reader = res.body.getReader()
  let buf = Buffer.alloc(0)
  while (buf.length < 5 || buf.length < 5 + buf.readUInt32BE(1)) {
    const { value, done } = await reader.read()
    assert.ok(!done, 'the stream ended before its start event')
    buf = Buffer.concat([buf, value])
  }
  const pid = JSON.parse(buf.subarray(5, 5 + buf.readUInt32BE(1))).event.start.pid
  assert.ok(pid > 0)
  // From here the client reads nothing: once the buffers between are full,
  // init stops reading the command and it blocks on its writes.
  await sleep(2500)
  const held = await outputEnd(sb, pid)
  await sleep(1500)
  assert.equal(await outputEnd(sb, pid), held, 'the held command wrote on')
  await quick(sb, 'a command beside the held one')
  await quick(other, 'a command in another sandbox')
  const grown = rssMiB(daemon) - rss0
  t.diagnostic(`daemon RSS ${rss0.toFixed(1)} MiB, +${grown.toFixed(1)} MiB while held`)
  assert.ok(grown < 12, `the daemon grew by ${grown.toFixed(1)} MiB`)
  // The client leaves: the command runs on at once, and can be killed.
  ctl.abort()
  let end = held
  for (let i = 0; i < 50 && end < held + 10_000_000; i++) {
    await sleep(100)
    end = await outputEnd(sb, pid)
  }
  assert.ok(end >= held + 10_000_000, `released: ${end - held} more bytes`)
  assert.equal(await sb.commands.kill(pid), true)
})
