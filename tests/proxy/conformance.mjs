// conformance.mjs - the MCP conformance suite's authorization-server scenarios against the
// proxy:
//
//   conformance authorization --url $M --client-id <registered> --resource $M/mcp
//                             --port <free> --output-dir .run/conformance
//
// (npm @modelcontextprotocol/conformance, pinned in package.json; run with
// `node --import ./conformance-hooks.mjs` so that its Node 22 bundle loads on Node 20). The
// scenario authorization-code-grant prints an authorization URL for a person to open in a
// browser and waits for its callback server; this script plays that person: it follows the
// URL with a cookie jar, approves the consent page, logs in at the upstream and delivers the
// redirect to the suite's callback server. Every check the suite reports becomes one
// "ok"/"not ok" line (WARNING counts as ok and is shown).
// Env (from run.sh): M, WORK.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { assert, check, done, drive, env, Jar, register } from './lib.mjs';

const M = env('M');
const WORK = env('WORK');
const HERE = path.dirname(fileURLToPath(import.meta.url));
const BIN = path.join(HERE, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');
const OUT = path.join(WORK, 'conformance');

const port = await new Promise((resolve) => {
  const s = net.createServer();
  s.listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});
const redirect = `http://127.0.0.1:${port}/callback`;

let clientId;
await check('conformance: a public client for the suite registers at the proxy', async () => {
  const r = await register(M, { client_name: 'MCP conformance suite', redirect_uris: [redirect], token_endpoint_auth_method: 'none' });
  assert.equal(r.status, 201);
  clientId = r.json.client_id;
});

const args = [
  '--import',
  path.join(HERE, 'conformance-hooks.mjs'),
  BIN,
  'authorization',
  '--url',
  M,
  '--client-id',
  clientId ?? 'none',
  '--resource',
  `${M}/mcp`,
  '--port',
  String(port),
  '--output-dir',
  OUT,
];
fs.writeFileSync(path.join(WORK, 'conformance.cmd'), `node ${args.map((a) => (/[\s"]/.test(a) ? JSON.stringify(a) : a)).join(' ')}\n`);

let output = '';
let browserStep = null;
const exitCode = await new Promise((resolve) => {
  const child = spawn(process.execPath, args, { cwd: HERE, stdio: ['ignore', 'pipe', 'pipe'] });
  const timer = setTimeout(() => child.kill('SIGTERM'), 75_000);
  process.once('SIGTERM', () => {
    child.kill('SIGTERM');
    process.exit(1);
  });
  const onData = (d) => {
    output += d.toString();
    if (browserStep) return;
    const m = output.match(new RegExp(`^(${M.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/authorize\\?\\S+)$`, 'm'));
    if (!m) return;
    // the suite waits for a person: do what the person would do in a browser
    browserStep = (async () => {
      const r = await drive(new Jar(), m[1], redirect);
      const res = await fetch(r.url); // arrives at the suite's callback server
      await res.arrayBuffer();
      return r;
    })().catch((e) => e);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  child.on('exit', (code) => {
    clearTimeout(timer);
    resolve(code);
  });
});
fs.writeFileSync(path.join(WORK, 'conformance.out'), output);

await check('conformance: the suite printed an authorization URL and the browser step completed', async () => {
  assert.ok(browserStep, `no authorization URL in the output:\n${output.slice(0, 1500)}`);
  const r = await browserStep;
  if (r instanceof Error) throw r;
  assert.ok(r.params.get('code'));
});

// checks.json of every scenario under the output directory
const results = [];
const walk = (d) => {
  for (const e of fs.existsSync(d) ? fs.readdirSync(d, { withFileTypes: true }) : []) {
    const p = path.join(d, e.name);
    if (e.isDirectory()) walk(p);
    else if (e.name === 'checks.json') results.push({ dir: path.relative(OUT, path.dirname(p)), checks: JSON.parse(fs.readFileSync(p, 'utf8')) });
  }
};
walk(OUT);

await check('conformance: both authorization-server scenarios ran and wrote results', async () => {
  const dirs = results.map((r) => r.dir).join(' ');
  assert.match(dirs, /authorization-server-metadata-endpoint/, dirs);
  assert.match(dirs, /authorization-code-grant/, dirs);
});

for (const { dir, checks } of results) {
  const scenario = dir
    .split(path.sep)[0]
    .replace(/-\d{4}-\d\d-\d\dT.*$/, '')
    .replace(/^authorization-server-(?=authorization-)/, '');
  for (const c of checks) {
    if (c.status === 'INFO') continue;
    const label = `conformance: ${scenario}: ${c.id} (${c.status})${c.errorMessage && c.status !== 'SUCCESS' ? ` - ${c.errorMessage}` : ''}`;
    await check(label, async () => {
      assert.ok(c.status === 'SUCCESS' || c.status === 'WARNING', `${c.status}: ${c.errorMessage ?? ''}`);
    });
  }
}

await check('conformance: the suite exited 0', async () => {
  assert.equal(exitCode, 0, output.slice(-1500));
});

done();
