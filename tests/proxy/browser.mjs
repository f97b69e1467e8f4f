// browser.mjs - the proxy's consent page in headless Chromium (Debian's /usr/bin/chromium driven
// by playwright-core): a person's click on #approve approves and the flow runs through the
// upstream back to the client; Deny returns access_denied; the page inside an <iframe> on
// another origin is refused by the browser (frame-ancestors 'none' / X-Frame-Options DENY);
// cross-site forged form posts are refused; one screenshot is written to .run/consent.png.
// Env (from run.sh): M, ISS, WORK. CHROMIUM overrides the browser path.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

import { chromium } from 'playwright-core';

import { assert, authorizeUrl, browse, check, done, env, isConsentPage, Jar, parseConsent, pkce, register, token } from './lib.mjs';

const M = env('M');
const ISS = env('ISS');
const WORK = env('WORK');
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';

// ---- the client's redirect target and an attacker's site (two more origins) -----------------

const callbacks = [];
const client = http.createServer((req, res) => {
  const u = new URL(req.url, 'http://x');
  if (u.pathname === '/callback') {
    callbacks.push(u.searchParams);
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><title>Signed in</title><p id="done">You can close this window.</p>');
    return;
  }
  if (u.pathname === '/hello') {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><title>hello</title><p id="hello">framable page</p>');
    return;
  }
  res.writeHead(404);
  res.end();
});
const evilPages = new Map();
const evil = http.createServer((req, res) => {
  const html = evilPages.get(req.url);
  res.writeHead(html ? 200 : 404, { 'content-type': 'text/html' });
  res.end(html ?? '');
});
await Promise.all([client, evil].map((s) => new Promise((r) => s.listen(0, '127.0.0.1', r))));
const CLIENT = `http://127.0.0.1:${client.address().port}`;
const EVIL = `http://127.0.0.1:${evil.address().port}`;
const CB = `${CLIENT}/callback`;

function authParams(cid, p, extra = {}) {
  return {
    response_type: 'code',
    client_id: cid,
    redirect_uri: CB,
    code_challenge: p.challenge,
    code_challenge_method: 'S256',
    state: 'browser-state',
    scope: 'mcp:read',
    resource: `${M}/mcp`,
    ...extra,
  };
}

async function newClient(name) {
  const r = await register(M, { client_name: name, redirect_uris: [CB] });
  assert.equal(r.status, 201);
  return r.json.client_id;
}

// ---- the browser -----------------------------------------------------------------------------

let context;
await check('browser: headless Chromium starts (fresh profile)', async () => {
  assert.ok(fs.existsSync(executablePath), `${executablePath} is missing (apt-get install -y chromium)`);
  const profile = fs.mkdtempSync(path.join(WORK, 'chromium-profile-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    viewport: { width: 1000, height: 820 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

if (!context) {
  done();
  client.close();
  evil.close();
  process.exit();
}

const upstreamRequests = [];
context.on('request', (req) => {
  if (req.url().startsWith(`${ISS}/auth?`)) upstreamRequests.push(req.url());
});

await check("browser: a person's click on #approve approves; the flow continues upstream and back to the client", async () => {
  const page = await context.newPage();
  const consoleErrors = [];
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
  const cid = await newClient('Claude Desktop');
  const p = pkce();
  const res = await page.goto(authorizeUrl(M, authParams(cid, p)));
  assert.equal(res.status(), 200);
  assert.equal(await page.title(), 'Authorize Claude Desktop');
  assert.equal(await page.textContent('#client-name'), 'Claude Desktop');
  assert.equal(await page.textContent('#redirect-uri'), CB);
  assert.ok(await page.isVisible('#approve'));
  assert.ok(await page.isVisible('#deny'));
  // the nonce'd inline stylesheet applies under the CSP (the button has the accent colour)
  const bg = await page.$eval('#approve', (e) => getComputedStyle(e).backgroundColor);
  assert.equal(bg, 'rgb(47, 91, 234)');
  await page.screenshot({ path: path.join(WORK, 'consent.png'), fullPage: true });
  assert.deepEqual(consoleErrors, [], 'no CSP violations or other errors on the page');
  const before = upstreamRequests.length;
  const posted = page.waitForRequest((r) => r.method() === 'POST' && r.url() === `${M}/authorize`);
  await Promise.all([page.waitForURL((u) => u.href.startsWith(CB), { timeout: 15000 }), page.click('#approve')]);
  // the browser names the page's origin (not "null": the page's Referrer-Policy allows it)
  assert.equal((await posted).headers().origin, M);
  assert.equal(upstreamRequests.length, before + 1, 'the browser went to the upstream once');
  const q = new URL(page.url()).searchParams;
  assert.equal(q.get('state'), 'browser-state');
  assert.equal(q.get('iss'), M);
  assert.ok(q.get('code'));
  assert.equal(await page.textContent('#done'), 'You can close this window.');
  const t = await token(M, { grant_type: 'authorization_code', client_id: cid, code: q.get('code'), redirect_uri: CB, code_verifier: p.verifier });
  assert.equal(t.status, 200, t.text);
  const cookies = await context.cookies(M);
  const consent = cookies.find((c) => c.name.startsWith('__Host-mcpauth-consent-'));
  assert.ok(consent, cookies.map((c) => c.name).join(','));
  assert.equal(consent.secure, true);
  assert.equal(consent.httpOnly, true);
  assert.equal(consent.sameSite, 'Lax');
  assert.ok(!cookies.some((c) => c.name.startsWith('__Host-mcpauth-bind-')), 'binding cookie cleared');
  // the approval is remembered in this browser: a second authorization goes straight upstream
  const p2 = pkce();
  await page.goto(authorizeUrl(M, authParams(cid, p2)));
  await page.waitForURL((u) => u.href.startsWith(CB), { timeout: 15000 });
  assert.ok(new URL(page.url()).searchParams.get('code'));
  await page.close();
});

await check('browser: a click on #deny returns access_denied to the client, nothing goes upstream', async () => {
  const page = await context.newPage();
  const cid = await newClient('Denied App');
  await page.goto(authorizeUrl(M, authParams(cid, pkce())));
  const before = upstreamRequests.length;
  await Promise.all([page.waitForURL((u) => u.href.startsWith(CB), { timeout: 15000 }), page.click('#deny')]);
  const q = new URL(page.url()).searchParams;
  assert.equal(q.get('error'), 'access_denied');
  assert.equal(q.get('state'), 'browser-state');
  assert.equal(upstreamRequests.length, before);
  await page.close();
});

await check('browser: the consent page in an <iframe> on another origin is refused (frame-ancestors / X-Frame-Options)', async () => {
  const cid = await newClient('Framed App');
  const target = authorizeUrl(M, authParams(cid, pkce()));
  evilPages.set(
    '/frame.html',
    `<!doctype html><title>win a prize</title><h1>Click the button!</h1>
     <iframe id="victim" name="victim" src="${target.replace(/&/g, '&amp;')}" width="600" height="500"></iframe>
     <iframe id="control" name="control" src="${CLIENT}/hello" width="200" height="100"></iframe>`,
  );
  const page = await context.newPage();
  const responses = [];
  page.on('response', (r) => r.url().startsWith(`${M}/authorize`) && responses.push(r));
  await page.goto(`${EVIL}/frame.html`, { waitUntil: 'load' });
  await page.waitForTimeout(300);
  // the server answered the framed request (so the refusal is the browser's) ...
  assert.equal(responses.length, 1);
  assert.equal(responses[0].status(), 200);
  assert.equal(responses[0].headers()['x-frame-options'], 'DENY');
  // ... and the browser did not render it
  const victim = page.frames().find((f) => f.name() === 'victim');
  assert.ok(victim, 'the frame exists');
  assert.ok(!victim.url().startsWith(M), `frame shows ${victim.url()}`);
  assert.equal(await victim.$('#approve'), null, 'no approve button inside the frame');
  assert.equal(await victim.$('#consent-form'), null);
  // control: a framable page on a third origin renders in the same kind of frame
  const control = page.frames().find((f) => f.name() === 'control');
  assert.equal(await control.textContent('#hello'), 'framable page');
  await page.close();
});

async function forged(name, fields) {
  const inputs = Object.entries(fields)
    .map(([k, v]) => `<input type="hidden" name="${k}" value="${String(v).replace(/&/g, '&amp;').replace(/"/g, '&quot;')}">`)
    .join('');
  evilPages.set(
    `/${name}.html`,
    `<!doctype html><title>loading</title><form id="f" method="post" action="${M}/authorize">${inputs}</form>
     <script>document.getElementById('f').submit()</script>`,
  );
  const page = await context.newPage();
  const before = upstreamRequests.length;
  const resp = page.waitForResponse((r) => r.url() === `${M}/authorize` && r.request().method() === 'POST');
  await page.goto(`${EVIL}/${name}.html`);
  const r = await resp;
  await page.waitForLoadState('load');
  const out = { status: r.status(), text: await page.content(), upstream: upstreamRequests.length - before };
  await page.close();
  return out;
}

await check('browser: a forged cross-site form post without the CSRF token is refused (400/403)', async () => {
  // the attacker lures the user's browser (which already approved clients here) to post a
  // real consent transaction of the attacker's, without the csrf_token field
  const cid = await newClient('Forged App');
  const page = await browse(new Jar(), authorizeUrl(M, authParams(cid, pkce())));
  assert.ok(isConsentPage(page));
  const f = parseConsent(page.text);
  const r = await forged('forge-no-token', { tx: f.tx, decision: 'approve' });
  assert.ok(r.status === 403 || r.status === 400, `status ${r.status}`);
  assert.equal(r.upstream, 0, 'nothing went upstream');
  assert.ok(!callbacks.some((q) => q.get('state') === 'forged'), 'the client got nothing');
});

await check("browser: a forged cross-site form post with the attacker's complete form (tx + csrf_token) -> 403", async () => {
  const cid = await newClient('Forged App 2');
  const page = await browse(new Jar(), authorizeUrl(M, authParams(cid, pkce(), { state: 'forged' })));
  const f = parseConsent(page.text);
  const r = await forged('forge-full', { tx: f.tx, csrf_token: f.csrf_token, decision: 'approve' });
  assert.equal(r.status, 403);
  assert.match(r.text, /Request refused/);
  assert.equal(r.upstream, 0, 'nothing went upstream');
  assert.ok(!callbacks.some((q) => q.get('state') === 'forged'));
});

await context.close();
client.close();
evil.close();
done();
