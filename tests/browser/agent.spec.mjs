// The Agent tab against a real daemon, a real OpenCode server per sandbox and
// the scripted OpenAI-compatible model of tests/e2e/fake_llm.py (HB_FAKE_LLM:
// its base URL; POST <base>/_script queues the turns the "model" plays).
// Each sandbox names its own model, so its turns sit in a queue of its own.
import { randomBytes } from 'node:crypto';
import { test, expect, KEY, FAKE_LLM as LLM, login, apiCall, shot } from './fixtures.mjs';

const START_MS = 150_000;        // a cold OpenCode start on a busy 2-core machine

const tag = randomBytes(3).toString('hex');
const SB = `agent-${tag}`;       // the sandbox with the scripted model
const BARE = `agent-nomodel-${tag}`;
const MODEL = `scripted-${tag}`;
const oc = (p) => `/api/v1/hiveboxes/${SB}/opencode${p}`;

async function control(body) {
  const r = await fetch(`${LLM}/_script`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ model: MODEL, ...body }),
  });
  expect(r.status, await r.text()).toBe(200);
}
const script = (...turns) => control({ turns });

async function turnsLeft() {
  const r = await fetch(`${LLM}/_state?model=${encodeURIComponent(MODEL)}`);
  return (await r.json()).turns_left;
}

async function openAgent(page, id) {
  await login(page);
  await page.goto(`/dashboard#/sandbox/${encodeURIComponent(id)}/agent`);
}

// The chat once the agent's server answers: the session list loaded, the
// event stream live.
async function ready(page) {
  await expect(page.locator('.agent-link')).toHaveAttribute('data-link', 'live', { timeout: START_MS });
  await expect(page.locator('.agent-input')).toBeEnabled();
}

async function prompt(page, text) {
  await page.locator('.agent-input').fill(text);
  await page.locator('.agent-input').press('Enter');
}

const lastAnswer = (page) => page.locator('.agent-msg[data-role="assistant"] .agent-text').last();

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  test.setTimeout(START_MS + 30_000);
  expect(KEY, 'HIVEBOX_KEY').toBeTruthy();
  expect(LLM, 'HB_FAKE_LLM').toBeTruthy();
  await apiCall('POST', '/api/v1/hiveboxes', { name: SB, llm_base_url: LLM, llm_model: MODEL });
  await apiCall('POST', '/api/v1/hiveboxes', { name: BARE });
  // start the agent's server now, not inside the first test's budget
  expect(await apiCall('GET', oc('/global/health'))).toMatchObject({ healthy: true });
});

test.afterAll(async () => {
  for (const id of [SB, BARE]) await apiCall('DELETE', `/api/v1/hiveboxes/${id}`).catch(() => {});
});

test('a prompt streams its answer word by word and shows the tool call with its result', async ({ page }) => {
  test.setTimeout(START_MS + 60_000);
  const words = 'one two three four five'.split(' ');
  const title = '<img src=x onerror=alert(1)> & <b>title</b>';   // the model names the session
  await control({ title, turns: [] });
  const answer = `Ran it. <script>window.__hbPwned=1</script> <img src=x onerror=alert(1)> ${words.join(' ')} the-end`;
  // the words come 0.1 s apart, the last after 8 s: a part of the answer is
  // on screen for seconds, so even a stalled renderer on a loaded host
  // (it then applies a burst of deltas in one task) shows one
  await script({ tool: 'exec', args: { command: 'echo tool-ok' } }, { text: answer, delay: 0.1, hold_last: 8 });
  await openAgent(page, SB);
  await ready(page);
  await page.locator('.agent-new').click();
  await expect(page.locator('.agent-session-pick[aria-current="true"]')).toHaveCount(1);
  await expect(page.locator('.agent-empty')).toBeVisible();
  // every text the answers showed, as the page changed
  await page.evaluate(() => {
    window.__agentTexts = [];
    const log = document.querySelector('.agent-log');
    new MutationObserver(() => {
      const t = [...log.querySelectorAll('.agent-msg[data-role="assistant"] .agent-text')].pop();
      if (t && t.textContent !== window.__agentTexts.at(-1)) window.__agentTexts.push(t.textContent);
    }).observe(log, { subtree: true, childList: true, characterData: true });
  });
  await prompt(page, 'run echo tool-ok please');

  // the prompt shows, the session is busy, Abort is offered
  await expect(page.locator('.agent-msg[data-role="user"] .agent-text')).toHaveText('run echo tool-ok please', { timeout: 30_000 });
  await expect(page.locator('.agent-state')).toHaveAttribute('data-state', 'busy');
  // the tool call appears and gets its result
  const tool = page.locator('.agent-tool[data-tool="hivebox_exec"]');
  await expect(tool).toHaveAttribute('data-status', 'completed', { timeout: 90_000 });   // a first prompt loads OpenCode's plugins
  await expect(tool.locator('.agent-tool-input')).toHaveText('$ echo tool-ok');
  await expect(tool.locator('.agent-tool-output')).toContainText('tool-ok');
  // the answer arrives piece by piece: the page showed a part of it before the whole
  await expect(lastAnswer(page)).toHaveText(answer, { timeout: 60_000 });
  const seen = await page.evaluate(() => window.__agentTexts);
  const partial = seen.filter((t) => t.startsWith('Ran it.') && t.length < answer.length);
  const drops = await page.locator('.agent-link').getAttribute('data-drops');
  expect(partial.length, `no partial answer was shown before the full one (stream drops: ${drops}): ${JSON.stringify(seen)}`).toBeGreaterThan(0);
  await expect(page.locator('.agent-state')).toHaveAttribute('data-state', 'idle', { timeout: 20_000 });
  await expect(page.locator('.agent-abort')).toBeDisabled();
  await expect(page.locator('.agent-session-pick[aria-current="true"] .agent-session-title')).toHaveText(title, { timeout: 20_000 });
  await expect(page.locator('.agent-title')).toHaveText(title);
  await expect(page.locator('.agent img, .agent b')).toHaveCount(0);
  // agent text is data: the markup shows as text and nothing ran
  await expect(page.locator('.agent-log script, .agent-log img')).toHaveCount(0);
  expect(await page.evaluate(() => window.__hbPwned)).toBeUndefined();
  expect(await turnsLeft()).toBe(0);

  // a finished answer's Markdown is built as elements, its HTML stays text
  await script({ text: 'Here: **bold** and `code`\n\n```sh\n<b>not bold</b>\n```\n- first\n- second' });
  await prompt(page, 'some markdown');
  const md = page.locator('.agent-msg[data-role="assistant"] .agent-text', { hasText: 'Here:' });
  await expect(md).toHaveAttribute('data-rendered', 'md', { timeout: 30_000 });
  await expect(md.locator('strong')).toHaveText('bold');
  await expect(md.locator('p code')).toHaveText('code');
  await expect(md.locator('pre.agent-code')).toHaveText('<b>not bold</b>');
  await expect(md.locator('li')).toHaveText(['first', 'second']);
  await expect(md.locator('b')).toHaveCount(0);
  await expect(page.locator('.agent-state')).toHaveAttribute('data-state', 'idle', { timeout: 20_000 });
  await shot(page, 'agent');
});

test('Abort stops a slow answer: busy, then idle, the rest never comes', async ({ page }) => {
  test.setTimeout(START_MS + 60_000);
  const slow = Array.from({ length: 40 }, (_, i) => `slow${i}`).join(' ');
  await script({ text: slow, delay: 0.4 });
  await openAgent(page, SB);
  await ready(page);
  // the session of the last test is opened again
  await expect(page.locator('.agent-tool[data-tool="hivebox_exec"]')).toHaveCount(1);
  await prompt(page, 'answer slowly');
  await expect(page.locator('.agent-state')).toHaveAttribute('data-state', 'busy');
  await expect(lastAnswer(page)).toContainText('slow2', { timeout: 30_000 });
  await page.locator('.agent-abort').click();
  await expect(page.locator('.agent-state')).toHaveAttribute('data-state', 'idle', { timeout: 10_000 });
  await expect(page.locator('.agent-msg-error, .agent-event-error').filter({ hasText: 'Aborted.' }).first()).toBeVisible();
  const cut = await lastAnswer(page).textContent();
  await page.waitForTimeout(1200);   // three more words' time: nothing more arrives
  expect(await lastAnswer(page).textContent()).toBe(cut);
  expect(cut).not.toContain('slow39');
  await expect(page.locator('.agent-send')).toBeEnabled();
});

test('reopening the tab shows the history; sessions can be created, chosen and deleted', async ({ page }) => {
  test.setTimeout(START_MS + 30_000);
  await openAgent(page, SB);
  await ready(page);
  const log = page.locator('.agent-log');
  await expect(log.locator('.agent-msg[data-role="user"] .agent-text')).toHaveText(['run echo tool-ok please', 'some markdown', 'answer slowly']);
  await expect(log.locator('.agent-tool[data-tool="hivebox_exec"] .agent-tool-output')).toContainText('tool-ok');
  await expect(log).toContainText('<script>window.__hbPwned=1</script>');
  await expect(log.locator('.agent-text pre.agent-code')).toHaveText('<b>not bold</b>');
  await expect(log.locator('.agent-msg-error').filter({ hasText: 'Aborted.' })).toHaveCount(1);
  await expect(log.locator('script, img, b')).toHaveCount(0);

  // another tab and back: mounted again, same history
  await page.locator('#tab-overview').click();
  await expect(page.locator('.agent-log')).toHaveCount(0);
  await page.locator('#tab-agent').click();
  await expect(page.locator('.agent-log .agent-tool[data-tool="hivebox_exec"]')).toHaveCount(1, { timeout: 20_000 });

  // a second session, then delete it (two clicks, no dialog)
  const rows = page.locator('.agent-session');
  await expect(rows).toHaveCount(1);
  await page.locator('.agent-new').click();
  await expect(rows).toHaveCount(2);
  await expect(page.locator('.agent-empty')).toBeVisible();
  const fresh = await page.locator('.agent-session:has(.agent-session-pick[aria-current="true"])').getAttribute('data-session');
  const del = page.locator(`.agent-session[data-session="${fresh}"] .agent-session-del`);
  await del.click();
  await expect(del).toHaveText('Delete?');
  await del.click();
  await expect(rows).toHaveCount(1);
  const left = await apiCall('GET', oc('/session'));
  expect(left.map((s) => s.id)).not.toContain(fresh);
  // the remaining session is shown again
  await expect(page.locator('.agent-log .agent-tool[data-tool="hivebox_exec"]')).toHaveCount(1);
});

test('a sandbox without a model says so plainly', async ({ page }) => {
  const info = await apiCall('GET', `/api/v1/hiveboxes/${BARE}`);
  expect(info.llm, 'the harness must start the daemon without a global model').toEqual(
    { provider: null, model: null, api_key_set: false });
  await openAgent(page, BARE);
  const note = page.locator('.agent-notice[data-notice="nomodel"]');
  await expect(note).toContainText('This sandbox has no model configured');
  await expect(note).toContainText('llm_model');
  await expect(page.locator('.agent-input')).toHaveCount(0);
});
