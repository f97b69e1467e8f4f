// bench.mjs - libmcpauth (Node binding) against jose 6 on the same tokens, in one run.
//
//   node node/bench/bench.mjs [seconds-per-mode]        (after `npm ci` in node/test: jose)
//
// It runs on one core (pinned with taskset, see below).
// Modes (each measured in interleaved slices so machine drift hits every mode alike):
//   miss    a different token on every call; libmcpauth's engine has its verified-token cache
//           off (tokenCacheSize 0), so every call checks the signature
//   repeat  the same token on every call (libmcpauth answers from its verified-token cache and
//           still checks the time; jose has no cache)
//   gate    the router in front of a fetch handler: provider.route(Request) on the protected
//           /mcp with a good (cached) token, versus an unprotected path (per-request cost)
// jose: createLocalJWKSet(jwks) + jwtVerify(token, keys, { issuer, audience }), keys in memory.
// raw: Node's own crypto.verify over the same signatures (input and signature pre-split, key
// imported once, no claims): the signature check alone, with Node's OpenSSL, which the addon's
// core also uses. "raw / jose" is about the most a verifier on that OpenSSL can reach against
// jose (a little more is possible: the core keeps verification contexts ready, crypto.verify
// sets one up per call).
// Every mode is reported per second of wall time and per second of process CPU time (all
// threads), with the ratios of both.
// libmcpauth: an inline JWKS (no network), issuer and resource (audience) checked.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import os from 'node:os';
import { performance } from 'node:perf_hooks';

// One core: the process (its JS thread and libuv's pool, where jose's WebCrypto calls run) is
// pinned to one CPU with taskset, so neither side gets a second core. BENCH_CPU picks the CPU;
// BENCH_PIN=0 turns pinning off.
if (process.env.BENCH_PIN !== '0' && process.env.BENCH_PINNED !== '1' && os.availableParallelism() > 1) {
  const cpu = process.env.BENCH_CPU ?? String(os.availableParallelism() - 1);
  const r = spawnSync('taskset', ['-c', cpu, process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, BENCH_PINNED: '1', BENCH_CPU: cpu },
  });
  if (!r.error) process.exit(r.status ?? 1);
  console.log(`(taskset is not available: not pinned, ${os.availableParallelism()} CPUs)`);
}

const require = createRequire(new URL('../test/package.json', import.meta.url));
const { createLocalJWKSet, jwtVerify } = require('jose');
const lib = require('libmcpauth');

const SECONDS = Number(process.argv[2] || 2);
const SLICES = Number(process.env.BENCH_SLICES || 20);
const ISSUER = 'https://issuer.bench.test';
const RESOURCE = 'https://mcp.bench.test/mcp';

function key(alg) {
  const pair = alg === 'RS256' ? crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }) : crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { alg, kid: `${alg}-k`, priv: pair.privateKey, jwk: { ...pair.publicKey.export({ format: 'jwk' }), kid: `${alg}-k`, alg, use: 'sig' } };
}
const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
function sign(k, i) {
  const now = Math.floor(Date.now() / 1000);
  const input = `${b64({ alg: k.alg, typ: 'JWT', kid: k.kid })}.${b64({
    iss: ISSUER, aud: RESOURCE, sub: `user-${i}`, email: `u${i}@example.com`, name: 'Bench User', scope: 'mcp:read mcp:write',
    client_id: 'bench-client', iat: now, exp: now + 3600,
  })}`;
  const sig = crypto.sign('sha256', Buffer.from(input), k.alg === 'RS256' ? k.priv : { key: k.priv, dsaEncoding: 'ieee-p1363' });
  return `${input}.${sig.toString('base64url')}`;
}

// Runs `fn(i)` (async) repeatedly for `ms`; returns calls.
async function runFor(fn, ms) {
  let n = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    for (let j = 0; j < 32; j++) await fn(n++);
  }
  return n;
}

// Rates per second of wall time and per second of the process's CPU time (every thread: the
// JS thread and libuv's pool, where jose's WebCrypto calls run). On a shared machine the wall
// rate also measures the wait for the core; the CPU rate measures only the work.
async function measure(modes) {
  const totals = Object.fromEntries(Object.keys(modes).map((k) => [k, { n: 0, ms: 0, cpu: 0 }]));
  const sliceMs = (SECONDS * 1000) / SLICES;
  for (const fn of Object.values(modes)) await runFor(fn, 50); // warm-up
  for (let s = 0; s < SLICES; s++) {
    for (const [name, fn] of Object.entries(modes)) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const n = await runFor(fn, sliceMs);
      totals[name].ms += performance.now() - t0;
      const c = process.cpuUsage(c0);
      totals[name].cpu += (c.user + c.system) / 1000;
      totals[name].n += n;
    }
  }
  const wall = Object.fromEntries(Object.entries(totals).map(([k, v]) => [k, (v.n * 1000) / v.ms]));
  const cpu = Object.fromEntries(Object.entries(totals).map(([k, v]) => [k, (v.n * 1000) / v.cpu]));
  return { wall, cpu };
}

const fmt = (x) => Math.round(x).toLocaleString('en-US');
const rows = [];
for (const alg of ['RS256', 'ES256']) {
  const k = key(alg);
  const jwks = { keys: [k.jwk] };
  const tokens = Array.from({ length: 4096 }, (_, i) => sign(k, i));
  const same = tokens[0];
  const jose = createLocalJWKSet(jwks);
  const joseOpts = { issuer: ISSUER, audience: RESOURCE };
  const miss = lib.jwksVerifier({ jwks, issuer: ISSUER, resource: RESOURCE, tokenCacheSize: 0, useEnv: false });
  const cached = lib.jwksVerifier({ jwks, issuer: ISSUER, resource: RESOURCE, useEnv: false });
  // both accept the tokens
  await jwtVerify(same, jose, joseOpts);
  await miss.verify(same);
  // the floor: Node's own crypto.verify of the same signatures (signing input and signature
  // already split and decoded, the public KeyObject imported once), no claims
  const pub = crypto.createPublicKey({ key: k.jwk, format: 'jwk' });
  const rawIn = tokens.map((t) => Buffer.from(t.slice(0, t.lastIndexOf('.'))));
  const rawSig = tokens.map((t) => Buffer.from(t.slice(t.lastIndexOf('.') + 1), 'base64url'));
  const rawKey = alg === 'RS256' ? pub : { key: pub, dsaEncoding: 'ieee-p1363' };
  if (!crypto.verify('sha256', rawIn[0], rawKey, rawSig[0])) throw new Error('raw verify failed');
  const { wall: r, cpu: rc } = await measure({
    'node crypto.verify (raw)': (i) => crypto.verify('sha256', rawIn[i & 4095], rawKey, rawSig[i & 4095]),
    'jose miss': (i) => jwtVerify(tokens[i & 4095], jose, joseOpts),
    'mcpauth miss verify()': (i) => miss.verify(tokens[i & 4095]),
    'mcpauth miss verifySync()': (i) => miss.verifySync(tokens[i & 4095]),
    'jose repeat': () => jwtVerify(same, jose, joseOpts),
    'mcpauth repeat verify()': () => cached.verify(same),
    'mcpauth repeat verifySync()': () => cached.verifySync(same),
  });
  rows.push({ alg, r, rc });
  console.log(`\n${alg} (verifications per second of wall time and per CPU second, one core, ${SECONDS}s per mode in ${SLICES} interleaved slices)`);
  console.log(`  ${''.padEnd(28)} ${'wall /s'.padStart(12)} ${'CPU /s'.padStart(12)}`);
  for (const [name, v] of Object.entries(r)) console.log(`  ${name.padEnd(28)} ${fmt(v).padStart(12)} ${fmt(rc[name]).padStart(12)}`);
  const x = (t, m, k, d) => `${(t[`mcpauth ${m} ${k}`] / t[`jose ${m}`]).toFixed(d)}x`;
  for (const [m, d] of [['miss', 2], ['repeat', 1]]) {
    console.log(`  ${`${m}:`.padEnd(7)} verify() ${x(r, m, 'verify()', d)} jose, verifySync() ${x(r, m, 'verifySync()', d)} jose (wall); ` +
      `${x(rc, m, 'verify()', d)} and ${x(rc, m, 'verifySync()', d)} (CPU)`);
  }
  const raw = (t) => t['node crypto.verify (raw)'];
  console.log(`  raw:    crypto.verify ${(raw(r) / r['jose miss']).toFixed(2)}x jose (wall), ${(raw(rc) / rc['jose miss']).toFixed(2)}x (CPU): ` +
    `Node's own signature check alone, no parsing or claims; verifySync() miss is ${(rc['mcpauth miss verifySync()'] / raw(rc)).toFixed(2)} of its rate (CPU)`);
}

// the router gate
{
  const k = key('RS256');
  const p = lib.jwksVerifier({ jwks: { keys: [k.jwk] }, issuer: ISSUER, baseUrl: 'https://mcp.bench.test', useEnv: false });
  const tok = sign(k, 1);
  const headers = { authorization: `Bearer ${tok}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  const body = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"}}';
  const protectedReq = () => new Request('https://mcp.bench.test/mcp', { method: 'POST', headers, body });
  const openReq = () => new Request('https://mcp.bench.test/health', { method: 'POST', headers, body });
  const bare = () => new Request('https://mcp.bench.test/health', { method: 'POST', headers, body });
  if ((await p.route(protectedReq())) !== undefined) throw new Error('the protected request did not pass');
  const { wall: r, cpu: rc } = await measure({
    'Request only (no router)': async () => bare(),
    'route() unprotected path': async () => p.route(openReq()),
    'route() protected, good token': async () => p.route(protectedReq()),
  });
  console.log(`\nrouter gate: provider.route(Request) per request (requests per second, same run; wall and CPU)`);
  for (const [name, v] of Object.entries(r)) {
    console.log(`  ${name.padEnd(30)} ${fmt(v).padStart(12)}   ${(1e6 / v).toFixed(2).padStart(7)} us wall ${(1e6 / rc[name]).toFixed(2).padStart(7)} us CPU`);
  }
  const cost = (t) => 1e6 / t['route() protected, good token'] - 1e6 / t['route() unprotected path'];
  console.log(`  protected minus unprotected: ${cost(r).toFixed(2)} us wall, ${cost(rc).toFixed(2)} us CPU per request`);
}
console.log(`\nlibmcpauth ${lib.coreVersion()}, Node ${process.version}, OpenSSL ${process.versions.openssl}, ` +
  (process.env.BENCH_PINNED === '1' ? `pinned to CPU ${process.env.BENCH_CPU}` : 'not pinned') + `, load average ${os.loadavg()[0].toFixed(1)}`);
