// conformance.test.mjs - the binding conformance vectors (bindings/conformance/vectors.json),
// the same cases C (tests/c/check_conformance.c) and Python run: every outcome, and for valid
// tokens the auth result as JSON, equal after canonical ordering to the core's own JSON text.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import test from 'node:test';

import { AuthError, Code, decodeUnverified, OAuthProvider } from 'libmcpauth';

import { canonical } from './helpers.mjs';

const VECTORS = JSON.parse(fs.readFileSync(new URL('../../bindings/conformance/vectors.json', import.meta.url), 'utf8'));

test('there are vectors', () => assert.ok(VECTORS.cases.length > 20));

for (const c of VECTORS.cases) {
  test(`vector: ${c.name}`, async () => {
    const p = new OAuthProvider(VECTORS.configs[c.config], { useEnv: false });
    const want = c.expect;
    for (const run of ['verify', 'verifySync']) {
      if (want.valid) {
        const auth = run === 'verify' ? await p.verify(c.token) : p.verifySync(c.token);
        for (const [k, v] of Object.entries(want.user ?? {})) assert.deepEqual(auth.user[k], v, `${run}: user.${k}`);
        if (want.scopes) assert.deepEqual([...auth.scopes].sort(), [...want.scopes].sort());
        for (const k of ['clientId', 'expiresAt']) if (k in want) assert.equal(auth[k], want[k], k);
        // payload: the token's own claims
        assert.equal(canonical(auth.payload), canonical(decodeUnverified(c.token).payload));
        // the JSON of the object equals the core's JSON (the raw addon answer), canonically; the
        // addon sends accessToken empty (the caller holds the token) and the object has it back
        const native = (await import('../lib/native.js')).default;
        const raw = native.verify(p._engine, c.token, 4);
        assert.equal(typeof raw, 'string');
        const core = JSON.parse(raw);
        assert.equal(core.accessToken, '', 'the addon strips the token it was given');
        assert.equal(auth.accessToken, c.token);
        core.accessToken = c.token;
        assert.equal(canonical(JSON.parse(JSON.stringify(auth))), canonical(core));
      } else {
        const call = run === 'verify' ? p.verify(c.token) : Promise.resolve().then(() => p.verifySync(c.token));
        await assert.rejects(call, (e) => {
          assert.ok(e instanceof AuthError, String(e));
          assert.equal(e.codeName, want.code);
          assert.equal(e.code, Code[want.code.replace(/^MCPAUTH_E_/, '')]);
          assert.equal(e.oauthError, want.error);
          return true;
        });
      }
    }
    p.close();
  });
}
