// lifetime.test.mjs - engines in worker_threads (per-environment state, cleanup at exit), the
// finalizer of a dropped provider, and many concurrent verifications across threads.
import assert from 'node:assert/strict';
import test from 'node:test';
import { Worker } from 'node:worker_threads';

import native from '../lib/native.js';
import { jwksVerifier } from 'libmcpauth';

import { claims, ISSUER, jwksOf, makeKey, RESOURCE, sign } from './helpers.mjs';

const rs = makeKey('RS256');

test('a dropped provider is freed by its finalizer', { skip: typeof globalThis.gc !== 'function' && 'needs --expose-gc' }, async () => {
  const before = native.liveEngines();
  (() => {
    for (let i = 0; i < 50; i++) jwksVerifier({ jwks: jwksOf(rs), issuer: ISSUER, resource: RESOURCE, useEnv: false });
  })();
  assert.ok(native.liveEngines() >= before + 50);
  for (let i = 0; i < 10 && native.liveEngines() > before; i++) {
    globalThis.gc();
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.ok(native.liveEngines() <= before + 1, `live engines: ${native.liveEngines()} (before ${before})`);
});

test('close() frees at once', () => {
  const before = native.liveEngines();
  const p = jwksVerifier({ jwks: jwksOf(rs), issuer: ISSUER, resource: RESOURCE, useEnv: false });
  assert.equal(native.liveEngines(), before + 1);
  p.close();
  assert.equal(native.liveEngines(), before);
});

const workerCode = `
const { parentPort, workerData } = require('node:worker_threads');
const lib = require(workerData.lib);
const native = require(workerData.native);
const p = lib.jwksVerifier({ jwks: workerData.jwks, issuer: workerData.issuer, resource: workerData.resource, useEnv: false });
(async () => {
  const out = [];
  for (const t of workerData.tokens) out.push((await p.verify(t)).user.userId);
  parentPort.postMessage({ out, live: native.liveEngines() });
  // left open on purpose: the environment's cleanup hook frees it when the worker exits
})();
`;

test('worker_threads: each thread has its own engines; exiting threads free theirs', async () => {
  const path = await import('node:path');
  const url = await import('node:url');
  const here = path.dirname(url.fileURLToPath(import.meta.url));
  const libPath = path.join(here, 'node_modules', 'libmcpauth');
  const nativePath = path.join(here, '..', 'lib', 'native.js');
  const before = native.processEngines();
  const runs = await Promise.all(
    Array.from({ length: 4 }, (_, w) =>
      new Promise((resolve, reject) => {
        const tokens = Array.from({ length: 50 }, (_, i) => sign(claims({ sub: `w${w}-${i}` }), rs));
        const worker = new Worker(workerCode, { eval: true, workerData: { lib: libPath, native: nativePath, jwks: jwksOf(rs), issuer: ISSUER, resource: RESOURCE, tokens } });
        let msg;
        worker.on('message', (m) => {
          msg = m;
          worker.terminate();
        });
        worker.on('error', reject);
        worker.on('exit', () => resolve({ w, msg }));
      }),
    ),
  );
  for (const { w, msg } of runs) {
    assert.ok(msg, `worker ${w} answered`);
    assert.equal(msg.out.length, 50);
    assert.equal(msg.out[49], `w${w}-49`);
    assert.equal(msg.live, 1, 'one engine in that thread');
  }
  // the workers exited with their providers open: their engines were freed at teardown (the
  // environment's cleanup hook, or the finalizers Node runs then)
  assert.equal(native.processEngines(), before, 'engines of exited workers are freed');
});
