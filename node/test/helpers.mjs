// helpers.mjs - keys, JWKS and tokens for the tests, made with node:crypto (independently of
// libmcpauth), and small HTTP helpers.
import crypto from 'node:crypto';
import http from 'node:http';

export const ISSUER = 'https://issuer.node.test';
export const RESOURCE = 'https://mcp.node.test/mcp';

export function makeKey(alg = 'RS256', kid = `${alg.toLowerCase()}-1`) {
  let pair;
  if (alg.startsWith('RS') || alg.startsWith('PS')) pair = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  else if (alg === 'ES256') pair = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  else if (alg === 'EdDSA') pair = crypto.generateKeyPairSync('ed25519');
  else throw new Error(`no key for ${alg}`);
  const jwk = { ...pair.publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
  return { alg, kid, privateKey: pair.privateKey, publicKey: pair.publicKey, jwk };
}

export const jwksOf = (...keys) => ({ keys: keys.map((k) => k.jwk) });

const b64 = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

export function sign(claims, key, header = {}) {
  const h = { alg: key.alg, typ: 'JWT', kid: key.kid, ...header };
  const input = `${b64(h)}.${b64(claims)}`;
  let sig;
  if (key.alg === 'RS256') sig = crypto.sign('sha256', Buffer.from(input), key.privateKey);
  else if (key.alg === 'PS256') sig = crypto.sign('sha256', Buffer.from(input), { key: key.privateKey, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
  else if (key.alg === 'ES256') sig = crypto.sign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  else if (key.alg === 'EdDSA') sig = crypto.sign(null, Buffer.from(input), key.privateKey);
  else throw new Error(key.alg);
  return `${input}.${sig.toString('base64url')}`;
}

export function claims(extra = {}) {
  const now = Math.floor(Date.now() / 1000);
  return { iss: ISSUER, aud: RESOURCE, sub: 'user-1', email: 'ada@example.com', name: 'Ada', scope: 'mcp:read', client_id: 'client-1', iat: now - 5, exp: now + 600, ...extra };
}

// A JWKS server on 127.0.0.1: { url, hits(), close(), delayMs (settable) }
export async function jwksServer(jwks) {
  const state = { hits: 0, delayMs: 0, jwks };
  const server = http.createServer((req, res) => {
    state.hits++;
    setTimeout(() => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(state.jwks));
    }, state.delayMs);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/jwks`,
    state,
    close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }),
  };
}

export async function listen(server) {
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return server.address().port;
}

export function canonical(v) {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
  return JSON.stringify(v);
}
