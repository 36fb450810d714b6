// pty.*: a terminal over process.Process (Start with pty, SendInput pty,
// Update, SendSignal), as E2B's terminal integrations drive it.
import { test, before } from 'node:test'
import assert from 'node:assert/strict'
import { CommandExitError } from 'e2b'
import { box } from './proc_lib.mjs'

let sb

before(async () => {
  sb = await box()
})

// A terminal and the text it has shown so far.
async function terminal(opts = {}) {
  const dec = new TextDecoder()
  const t = { text: '' }
  t.h = await sb.pty.create({ cols: 80, rows: 24, onData: (d) => { t.text += dec.decode(d, { stream: true }) }, ...opts })
  return t
}

async function until(t, re, ms = 10_000) {
  const end = Date.now() + ms
  while (!re.test(t.text)) {
    if (Date.now() > end) throw new Error(`no ${re} in ${JSON.stringify(t.text.slice(-400))}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

test('input typed into the terminal runs in its shell, output comes back', async () => {
  const t = await terminal()
  assert.ok(t.h.pid > 0)
  await sb.pty.sendInput(t.h.pid, new TextEncoder().encode('echo hi-$((40+2))\n'))
  await until(t, /hi-42/)
  // the shell is a login shell of the default user, in its home
  await sb.pty.sendInput(t.h.pid, new TextEncoder().encode('echo "[$(whoami):$(pwd):$TERM]"\n'))
  await until(t, /\[user:\/home\/user:xterm-256color\]/)
  await sb.pty.kill(t.h.pid)
})

test('resize reaches the terminal (stty size)', async () => {
  const t = await terminal()
  await sb.pty.sendInput(t.h.pid, new TextEncoder().encode('stty size\n'))
  await until(t, /24 80/)
  await sb.pty.resize(t.h.pid, { cols: 132, rows: 41 })
  await sb.pty.sendInput(t.h.pid, new TextEncoder().encode('stty size\n'))
  await until(t, /41 132/)
  await sb.pty.kill(t.h.pid)
})

test('kill ends the terminal; wait reports it; a second kill finds nothing', async () => {
  const t = await terminal()
  assert.equal(await sb.pty.kill(t.h.pid), true)
  await assert.rejects(t.h.wait(), (e) => e instanceof CommandExitError && e.exitCode === -1)
  assert.equal(await sb.pty.kill(t.h.pid), false)
})

test('exit from the shell ends it with its status', async () => {
  const t = await terminal()
  await sb.pty.sendInput(t.h.pid, new TextEncoder().encode('exit 3\n'))
  await assert.rejects(t.h.wait(), (e) => e instanceof CommandExitError && e.exitCode === 3)
})

test('tput works in the terminal where the image has it', async () => {
  const has = await sb.commands.run('command -v tput || true')
  if (!has.stdout.trim()) return   // the image change adds ncurses-bin
  const t = await terminal()
  await sb.pty.sendInput(t.h.pid, new TextEncoder().encode('echo "cols=$(tput cols)"\n'))
  await until(t, /cols=80/)
  await sb.pty.kill(t.h.pid)
})

test('a terminal can be reconnected by pid after its client left', async () => {
  const t = await terminal()
  await t.h.disconnect()
  const u = { text: '' }
  const dec = new TextDecoder()
  const h2 = await sb.pty.connect(t.h.pid, { onData: (d) => { u.text += dec.decode(d, { stream: true }) } })
  await sb.pty.sendInput(t.h.pid, new TextEncoder().encode('echo back-$((6*7))\n'))
  await until(u, /back-42/)
  await h2.kill()
})
