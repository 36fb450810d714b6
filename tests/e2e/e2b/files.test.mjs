// files.* of the E2B JS SDK against HiveBox: filesystem.Filesystem over
// Connect and GET/POST /files, the SDK configured as a user would
// (lib.mjs). Our own scenarios; every check can fail.
import { test, before } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { NotFoundError } from 'e2b'
import { sandbox, API_URL } from './lib.mjs'

let sb

// E2B writes as the default user `user`; an image without it gets one here
// (as root, through the SDK's own commands).
before(async () => {
  sb = await sandbox()
  await sb.commands.run('id user >/dev/null 2>&1 || useradd -m -s /bin/bash user', { user: 'root' })
})

test('text round trip, absolute and relative paths', async () => {
  const info = await sb.files.write('/tmp/hello.txt', 'hello, hive\n')
  assert.equal(info.path, '/tmp/hello.txt')
  assert.equal(info.name, 'hello.txt')
  assert.equal(await sb.files.read('/tmp/hello.txt'), 'hello, hive\n')
  // relative: the user's home
  const rel = await sb.files.write('notes/today.md', '# today')
  assert.equal(rel.path, '/home/user/notes/today.md')
  assert.equal(await sb.files.read('/home/user/notes/today.md'), '# today')
  assert.equal(await sb.files.read('notes/today.md'), '# today')
  // an empty file
  await sb.files.write('/tmp/empty', '')
  assert.equal(await sb.files.read('/tmp/empty'), '')
})

test('binary content with every byte value survives', async () => {
  const bytes = new Uint8Array(256 * 4)
  for (let i = 0; i < bytes.length; i++) bytes[i] = i % 256
  await sb.files.write('/tmp/all-bytes.bin', bytes.buffer)
  const back = await sb.files.read('/tmp/all-bytes.bin', { format: 'bytes' })
  assert.deepEqual(Buffer.from(back), Buffer.from(bytes))
  const r = await sb.commands.run('sha256sum /tmp/all-bytes.bin')
  assert.equal(r.stdout.split(' ')[0], createHash('sha256').update(bytes).digest('hex'))
})

test('a 20 MiB file, written and read back, multipart and octet-stream', async () => {
  const big = Buffer.alloc(20 * 1024 * 1024)
  for (let i = 0; i < big.length; i += 4) big.writeUInt32LE((i * 2654435761) >>> 0, i)
  const digest = createHash('sha256').update(big).digest('hex')
  await sb.files.write('/tmp/big.bin', big.buffer.slice(big.byteOffset, big.byteOffset + big.length))
  const r = await sb.commands.run('sha256sum /tmp/big.bin && stat -c %s /tmp/big.bin')
  assert.match(r.stdout, new RegExp(`^${digest} `))
  assert.match(r.stdout, /\n20971520\n$/)
  const back = await sb.files.read('/tmp/big.bin', { format: 'bytes' })
  assert.equal(back.length, big.length)
  assert.equal(createHash('sha256').update(back).digest('hex'), digest)
  // the octet-stream path (a streamed body)
  const stream = new Blob([big]).stream()
  await sb.files.write('/tmp/big2.bin', stream)
  const r2 = await sb.commands.run('sha256sum /tmp/big2.bin')
  assert.equal(r2.stdout.split(' ')[0], digest)
  // gzip'd on the wire (Content-Encoding: gzip), stored as it was
  await sb.files.write('/tmp/big3.bin', big.buffer.slice(big.byteOffset, big.byteOffset + big.length), { gzip: true })
  const r3 = await sb.commands.run('sha256sum /tmp/big3.bin')
  assert.equal(r3.stdout.split(' ')[0], digest)
  const back3 = await sb.files.read('/tmp/big3.bin', { format: 'bytes', gzip: true })
  assert.equal(createHash('sha256').update(back3).digest('hex'), digest)
})

test('several files at once (the array form)', async () => {
  const out = await sb.files.write([
    { path: '/tmp/multi/a.txt', data: 'A' },
    { path: '/tmp/multi/sub/b.txt', data: 'BB' },
    { path: 'multi-rel.txt', data: 'C' },
  ])
  assert.deepEqual(out.map((f) => f.path).sort(),
    ['/home/user/multi-rel.txt', '/tmp/multi/a.txt', '/tmp/multi/sub/b.txt'])
  assert.equal(await sb.files.read('/tmp/multi/sub/b.txt'), 'BB')
  assert.equal(await sb.files.read('/home/user/multi-rel.txt'), 'C')
})

test('written files and their new parents belong to user, who can append', async () => {
  await sb.files.write('/home/user/deep/er/owned.txt', 'one\n')
  const r = await sb.commands.run(
    'stat -c "%U:%G %a" /home/user/deep /home/user/deep/er /home/user/deep/er/owned.txt')
  assert.deepEqual(r.stdout.trim().split('\n'), ['user:user 755', 'user:user 755', 'user:user 644'])
  await sb.commands.run('echo two >> /home/user/deep/er/owned.txt && touch /home/user/deep/er/new', { user: 'user' })
  assert.equal(await sb.files.read('/home/user/deep/er/owned.txt'), 'one\ntwo\n')
  // a write as root is root's
  await sb.files.write('/tmp/rootfile', 'r', { user: 'root' })
  const r2 = await sb.commands.run('stat -c %U /tmp/rootfile')
  assert.equal(r2.stdout.trim(), 'root')
  // a file rewritten keeps its mode and owner (a script stays executable)
  await sb.commands.run('printf "#!/bin/sh\necho old\n" > /tmp/tool.sh && chmod 750 /tmp/tool.sh', { user: 'root' })
  await sb.files.write('/tmp/tool.sh', '#!/bin/sh\necho new\n')
  const r3 = await sb.commands.run('stat -c "%U %a" /tmp/tool.sh && /tmp/tool.sh', { user: 'root' })
  assert.equal(r3.stdout, 'root 750\nnew\n')
  // makeDir's directory is user's too
  await sb.files.makeDir('/tmp/made-by-user')
  const r4 = await sb.commands.run('stat -c %U /tmp/made-by-user')
  assert.equal(r4.stdout.trim(), 'user')
})

test('list with depth, makeDir new and existing, getInfo fields', async () => {
  assert.equal(await sb.files.makeDir('/tmp/tree/x/y'), true)
  assert.equal(await sb.files.makeDir('/tmp/tree/x/y'), false)
  await sb.files.write('/tmp/tree/top.txt', '12345')
  await sb.files.write('/tmp/tree/x/y/leaf.txt', 'leaf')
  const one = await sb.files.list('/tmp/tree')
  assert.deepEqual(one.map((e) => `${e.name}:${e.type}`).sort(), ['top.txt:file', 'x:dir'])
  const three = await sb.files.list('/tmp/tree', { depth: 3 })
  assert.deepEqual(three.map((e) => e.path).sort(),
    ['/tmp/tree/top.txt', '/tmp/tree/x', '/tmp/tree/x/y', '/tmp/tree/x/y/leaf.txt'])
  const info = await sb.files.getInfo('/tmp/tree/top.txt')
  assert.equal(info.name, 'top.txt')
  assert.equal(info.type, 'file')
  assert.equal(info.path, '/tmp/tree/top.txt')
  assert.equal(info.size, 5)
  assert.equal(info.permissions, '-rw-r--r--')
  assert.equal(info.mode, 0o644)
  assert.equal(info.owner, 'user')
  assert.equal(info.group, 'user')
  assert.ok(info.modifiedTime instanceof Date)
  assert.ok(Math.abs(info.modifiedTime.getTime() - Date.now()) < 5 * 60_000)
  const dir = await sb.files.getInfo('/tmp/tree/x')
  assert.equal(dir.type, 'dir')
  assert.equal(dir.permissions, 'drwxr-xr-x')
  const etc = await sb.files.getInfo('/etc')
  assert.equal(etc.owner, 'root')
  await assert.rejects(sb.files.list('/tmp/tree/top.txt'))
  await assert.rejects(sb.files.list('/tmp/tree', { depth: 0 }))
  // a huge tree below costs nothing past the depth asked for; past the
  // answer's bound the error says what to do
  await sb.commands.run('mkdir -p /tmp/huge/sub && cd /tmp/huge/sub && seq 1 25000 | xargs touch')
  const shallow = await sb.files.list('/tmp/huge')
  assert.deepEqual(shallow.map((e) => e.name), ['sub'])
  await assert.rejects(sb.files.list('/tmp/huge', { depth: 2 }), /depth/)
})

test('exists, rename, remove; missing files are NotFoundError', async () => {
  await sb.files.write('/tmp/mv/src.txt', 'moving')
  assert.equal(await sb.files.exists('/tmp/mv/src.txt'), true)
  assert.equal(await sb.files.exists('/tmp/mv/nope.txt'), false)
  const moved = await sb.files.rename('/tmp/mv/src.txt', '/tmp/mv/new/dst.txt')
  assert.equal(moved.path, '/tmp/mv/new/dst.txt')
  assert.equal(moved.type, 'file')
  assert.equal(await sb.files.exists('/tmp/mv/src.txt'), false)
  assert.equal(await sb.files.read('/tmp/mv/new/dst.txt'), 'moving')
  await sb.files.remove('/tmp/mv/new/dst.txt')
  assert.equal(await sb.files.exists('/tmp/mv/new/dst.txt'), false)
  await sb.files.remove('/tmp/mv')   // a directory with what it holds
  assert.equal(await sb.files.exists('/tmp/mv'), false)
  await assert.rejects(sb.files.read('/tmp/mv/none.txt'), NotFoundError)
  await assert.rejects(sb.files.getInfo('/tmp/none'), NotFoundError)
  await assert.rejects(sb.files.remove('/tmp/none'), NotFoundError)
  await assert.rejects(sb.files.rename('/tmp/none', '/tmp/none2'), NotFoundError)
})

test('signed upload and download URLs work with plain fetch; tampering is refused', async () => {
  // E2B_SANDBOX_URL is one host for every sandbox: the URL names no sandbox,
  // so plain fetch adds the header the SDK itself sends.
  const headers = { 'E2b-Sandbox-Id': sb.sandboxId }
  const up = await sb.uploadUrl('/tmp/signed/up.txt', { useSignatureExpiration: 60 })
  assert.ok(up.startsWith(API_URL))
  const form = new FormData()
  form.append('file', new Blob(['via url']), '/tmp/signed/up.txt')
  let res = await fetch(up, { method: 'POST', body: form, headers })
  assert.equal(res.status, 200, await res.clone().text())
  assert.equal((await res.json())[0].path, '/tmp/signed/up.txt')
  const down = await sb.downloadUrl('/tmp/signed/up.txt')
  res = await fetch(down, { headers })
  assert.equal(res.status, 200)
  assert.equal(await res.text(), 'via url')
  // tampered: another path under the same signature, a wrong signature,
  // the upload's signature used to read, no signature at all
  const other = new URL(down)
  other.searchParams.set('path', '/etc/shadow')
  assert.equal((await fetch(other, { headers })).status, 401)
  const bad = new URL(down)
  bad.searchParams.set('signature', 'v1_' + 'A'.repeat(43))
  assert.equal((await fetch(bad, { headers })).status, 401)
  const swapped = new URL(down)
  swapped.searchParams.set('signature', new URL(up).searchParams.get('signature'))
  assert.equal((await fetch(swapped, { headers })).status, 401)
  const bare = new URL(down)
  bare.searchParams.delete('signature')
  const r = await fetch(bare, { headers })
  assert.equal(r.status, 401)
  assert.equal((await r.json()).code, 401)
  // expired
  const old = new URL(up)
  old.searchParams.set('signature_expiration', String(Math.floor(Date.now() / 1000) - 10))
  assert.equal((await fetch(old, { method: 'POST', body: form, headers })).status, 401)
})

// Collects a watch's events until pred holds (or the time is up).
function collector() {
  const seen = []
  let wake = () => {}
  return {
    seen,
    onEvent: (ev) => { seen.push(`${ev.type}:${ev.name}`); wake() },
    async until(pred, ms = 10_000) {
      const end = Date.now() + ms
      while (!pred(seen) && Date.now() < end)
        await new Promise((r) => { wake = r; setTimeout(r, 100) })
      return pred(seen)
    },
  }
}

test('watchDir sees a create with its write, a chmod and a remove', async () => {
  await sb.files.makeDir('/tmp/watched')
  const c = collector()
  const handle = await sb.files.watchDir('/tmp/watched', c.onEvent)
  try {
    await sb.files.write('/tmp/watched/new.txt', 'content')
    assert.ok(await c.until((s) => s.includes('create:new.txt') && s.includes('write:new.txt')),
      `events: ${c.seen}`)
    await sb.commands.run('chmod 600 /tmp/watched/new.txt')
    assert.ok(await c.until((s) => s.includes('chmod:new.txt')), `events: ${c.seen}`)
    // a rename is one (init watches with inotify): the old name renamed, the new created
    await sb.commands.run('mv /tmp/watched/new.txt /tmp/watched/moved.txt')
    assert.ok(await c.until((s) => s.includes('rename:new.txt') && s.includes('create:moved.txt')),
      `events: ${c.seen}`)
    await sb.files.remove('/tmp/watched/moved.txt')
    assert.ok(await c.until((s) => s.includes('remove:moved.txt')), `events: ${c.seen}`)
    // the writer's temp file never shows
    assert.ok(!c.seen.some((e) => e.includes('hbtmp')), `events: ${c.seen}`)
    // not recursive: a file in a subdirectory is not reported, the directory is
    await sb.files.write('/tmp/watched/sub/inner.txt', 'x')
    assert.ok(await c.until((s) => s.includes('create:sub')), `events: ${c.seen}`)
    await new Promise((r) => setTimeout(r, 600))
    assert.ok(!c.seen.some((e) => e.endsWith('inner.txt')), `events: ${c.seen}`)
  } finally {
    await handle.stop()
  }
  await assert.rejects(sb.files.watchDir('/tmp/not-there', () => {}), NotFoundError)
})

test('a recursive watchDir names deep changes relative to the watched directory', async () => {
  await sb.files.makeDir('/tmp/rwatch/a/b')
  const c = collector()
  const handle = await sb.files.watchDir('/tmp/rwatch', c.onEvent, { recursive: true })
  try {
    // a directory made after the watch began is watched too
    await sb.files.makeDir('/tmp/rwatch/later')
    assert.ok(await c.until((s) => s.includes('create:later')), `events: ${c.seen}`)
    await sb.commands.run('echo x > /tmp/rwatch/later/f')
    assert.ok(await c.until((s) => s.includes('create:later/f') && s.includes('write:later/f')),
      `events: ${c.seen}`)
    await sb.files.write('/tmp/rwatch/a/b/deep.txt', 'deep')
    assert.ok(await c.until((s) => s.includes('create:a/b/deep.txt') && s.includes('write:a/b/deep.txt')),
      `events: ${c.seen}`)
    await sb.commands.run('rm /tmp/rwatch/a/b/deep.txt')
    assert.ok(await c.until((s) => s.includes('remove:a/b/deep.txt')), `events: ${c.seen}`)
  } finally {
    await handle.stop()
  }
})

// The Python SDK's sync watcher polls these; the JS SDK does not use them,
// so they are called here as Connect unary calls.
async function rpc(method, body) {
  const res = await fetch(`${API_URL}/filesystem.Filesystem/${method}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'E2b-Sandbox-Id': sb.sandboxId,
      'X-Access-Token': sb.envdAccessToken, 'Connect-Protocol-Version': '1' },
    body: JSON.stringify(body),
  })
  return { status: res.status, json: await res.json() }
}

test('CreateWatcher, GetWatcherEvents, RemoveWatcher', async () => {
  await sb.files.makeDir('/tmp/polled')
  const made = await rpc('CreateWatcher', { path: '/tmp/polled', recursive: true })
  assert.equal(made.status, 200, JSON.stringify(made.json))
  const id = made.json.watcherId
  assert.match(id, /^[0-9a-f]{32}$/)
  let got = await rpc('GetWatcherEvents', { watcherId: id })
  assert.deepEqual(got.json.events ?? [], [])
  await sb.files.write('/tmp/polled/x/y.txt', 'y')
  got = await rpc('GetWatcherEvents', { watcherId: id })
  assert.deepEqual(got.json.events.map((e) => `${e.type}:${e.name}`),
    ['EVENT_TYPE_CREATE:x', 'EVENT_TYPE_CREATE:x/y.txt', 'EVENT_TYPE_WRITE:x/y.txt'])
  got = await rpc('GetWatcherEvents', { watcherId: id })
  assert.deepEqual(got.json.events ?? [], [])   // each change once
  assert.equal((await rpc('RemoveWatcher', { watcherId: id })).status, 200)
  const gone = await rpc('GetWatcherEvents', { watcherId: id })
  assert.equal(gone.status, 404)
  assert.equal(gone.json.code, 'not_found')
  const missing = await rpc('CreateWatcher', { path: '/tmp/no-such-dir' })
  assert.equal(missing.json.code, 'not_found')
  const noField = await rpc('GetWatcherEvents', {})
  assert.equal(noField.status, 400)
  assert.match(noField.json.message, /watcherId/)
})

test('a watch ends when its sandbox is killed, and does not hold the kill up', async () => {
  const other = await sandbox()
  let exited = null
  const handle = await other.files.watchDir('/tmp', () => {}, { onExit: (err) => { exited = err ?? 'clean' } })
  const t0 = Date.now()
  await other.kill()
  assert.ok(Date.now() - t0 < 15_000, 'kill took too long')
  const end = Date.now() + 10_000
  while (exited === null && Date.now() < end) await new Promise((r) => setTimeout(r, 100))
  assert.notEqual(exited, null, 'the watch did not end')
  await handle.stop()
  await assert.rejects(other.files.list('/tmp'))
})

test('raw /files errors are envd-shaped JSON naming the field', async () => {
  const headers = { 'E2b-Sandbox-Id': sb.sandboxId, 'X-Access-Token': sb.envdAccessToken }
  const call = async (method, qs, extra = {}, body = undefined) => {
    const res = await fetch(`${API_URL}/files${qs}`, { method, headers: { ...headers, ...extra }, body })
    const json = await res.json()
    assert.equal(json.code, res.status)
    return { status: res.status, message: json.message }
  }
  let r = await call('GET', '')
  assert.equal(r.status, 400)
  assert.match(r.message, /path/)
  r = await call('GET', '?path=/tmp/no-such-file')
  assert.equal(r.status, 404)
  r = await call('GET', '?path=/tmp')
  assert.equal(r.status, 400)
  r = await call('POST', '?path=/tmp/x', { 'Content-Type': 'text/plain' }, 'x')
  assert.equal(r.status, 415)
  r = await call('POST', '?path=/tmp/x', { 'Content-Type': 'application/octet-stream', 'Content-Encoding': 'gzip' }, 'not gzip at all')
  assert.equal(r.status, 400)
  assert.match(r.message, /body/)
  assert.equal(await sb.files.exists('/tmp/x'), false)
  r = await call('POST', '', { 'Content-Type': 'application/octet-stream' }, 'x')
  assert.equal(r.status, 400)
  r = await call('POST', '', { 'Content-Type': 'multipart/form-data; boundary=B' },
    '--B\r\nContent-Disposition: form-data; name="file"\r\n\r\nx\r\n--B--\r\n')
  assert.equal(r.status, 400)
  assert.match(r.message, /filename/)
  r = await call('POST', '?path=/tmp/cut', { 'Content-Type': 'multipart/form-data; boundary=B' },
    '--B\r\nContent-Disposition: form-data; name="file"; filename="/tmp/cut"\r\n\r\nno end')
  assert.equal(r.status, 400)
  r = await call('POST', '?username=nobody-such', { 'Content-Type': 'application/octet-stream' }, 'x')
  assert.equal(r.status, 400)
  r = await call('POST', '?path=/tmp/u&username=nobody-such', { 'Content-Type': 'application/octet-stream' }, 'x')
  assert.equal(r.status, 400)
  assert.match(r.message, /user/)
  // without the token or a signature
  const res = await fetch(`${API_URL}/files?path=/etc/hostname`, { headers: { 'E2b-Sandbox-Id': sb.sandboxId } })
  assert.equal(res.status, 401)
})

test('a hostile tree (deeper than init watches) neither crashes init nor hangs the watch', async () => {
  await sb.commands.run('d=/tmp/deep; for i in $(seq 1 80); do d=$d/d; done; mkdir -p $d')
  let handle = null
  try {
    handle = await sb.files.watchDir('/tmp/deep', () => {}, { recursive: true })
  } catch (err) {
    assert.ok(err instanceof Error)   // refused is fine; crashing is not
  }
  if (handle) await handle.stop()
  assert.equal((await sb.commands.run('echo alive')).stdout, 'alive\n')
  assert.equal(await sb.files.exists('/tmp/deep/d/d'), true)
})

test('bounds: 16 watchers a sandbox, 10,000 entries a polled tree, 20,000 a listing', async () => {
  await sb.commands.run('mkdir -p /tmp/bounded /tmp/many && cd /tmp/many && seq 1 20001 | xargs touch',
    { user: 'root' })
  const ids = []
  for (let i = 0; i < 16; i++) {
    const made = await rpc('CreateWatcher', { path: '/tmp/bounded' })
    assert.equal(made.status, 200, JSON.stringify(made.json))
    ids.push(made.json.watcherId)
  }
  const over = await rpc('CreateWatcher', { path: '/tmp/bounded' })
  assert.equal(over.json.code, 'resource_exhausted', JSON.stringify(over.json))
  assert.match(over.json.message, /at most 16 per sandbox/)
  assert.equal((await rpc('RemoveWatcher', { watcherId: ids.pop() })).status, 200)
  const again = await rpc('CreateWatcher', { path: '/tmp/bounded' })
  assert.equal(again.status, 200, 'a removed watcher frees its place')
  ids.push(again.json.watcherId)
  for (const id of ids) await rpc('RemoveWatcher', { watcherId: id })

  const huge = await rpc('CreateWatcher', { path: '/tmp/many' })
  assert.equal(huge.json.code, 'resource_exhausted', JSON.stringify(huge.json))
  const listed = await rpc('ListDir', { path: '/tmp/many', depth: 1 })
  assert.equal(listed.json.code, 'invalid_argument', JSON.stringify(listed.json).slice(0, 300))
  assert.match(listed.json.message, /over 20000 entries/)
  // one entry fewer is listed whole
  await sb.commands.run('rm /tmp/many/20001', { user: 'root' })
  const whole = await rpc('ListDir', { path: '/tmp/many', depth: 1 })
  assert.equal(whole.status, 200)
  assert.equal(whole.json.entries.length, 20000)
})
