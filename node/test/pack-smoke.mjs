// pack-smoke.mjs - run inside a fresh project that installed the packed tarball: the ESM and
// CommonJS entries load, and every conformance vector gives its outcome.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';

import { AuthError, OAuthProvider, coreVersion } from 'libmcpauth';

const require = createRequire(import.meta.url);
assert.equal(require('libmcpauth').OAuthProvider, OAuthProvider);
assert.ok(!require.resolve('libmcpauth').includes('/node/index.js') || process.env.ALLOW_LINK, 'a copy, not the repository folder');
const vectors = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
let n = 0;
for (const c of vectors.cases) {
  const p = new OAuthProvider(vectors.configs[c.config], { useEnv: false });
  if (c.expect.valid) assert.equal(p.verifySync(c.token).user.userId, c.expect.user.userId, c.name);
  else assert.throws(() => p.verifySync(c.token), (e) => e instanceof AuthError && e.codeName === c.expect.code, c.name);
  p.close();
  n++;
}
console.log(`pack-smoke: libmcpauth ${coreVersion()} under Node ${process.version}: ${n} vectors ok`);
