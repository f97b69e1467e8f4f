// lib.mjs - a tiny check runner for the Node parts of tests/http: each check prints
// "ok - NAME" or "not ok - NAME" (run.sh counts these lines) and never throws.
import assert from 'node:assert/strict';
import process from 'node:process';

let failed = 0;

export async function check(name, fn) {
  try {
    await fn();
    process.stdout.write(`ok - ${name}\n`);
  } catch (e) {
    failed++;
    const msg = String(e?.stack ?? e).split('\n').slice(0, 6).join('\n   ');
    process.stdout.write(`not ok - ${name}\n   ${msg}\n`);
  }
}

export function done() {
  process.exitCode = failed ? 1 : 0;
}

export function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`environment variable ${name} is required`);
  return v;
}

// Follows an authorization request through the IdP (manual redirects, a name-keyed cookie
// jar) until it reaches redirectUri; returns the callback URL's search parameters.
export async function followAuthorization(start, redirectUri) {
  const jar = new Map();
  let url = new URL(start);
  for (let i = 0; i < 20; i++) {
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
    for (const sc of res.headers.getSetCookie()) {
      const [pair] = sc.split(';');
      const eq = pair.indexOf('=');
      jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1));
    }
    if (res.status < 300 || res.status >= 400) {
      throw new Error(`authorization stopped at ${url} with ${res.status}: ${await res.text()}`);
    }
    await res.arrayBuffer();
    const next = new URL(res.headers.get('location'), url);
    if (next.href.startsWith(redirectUri)) return next.searchParams;
    url = next;
  }
  throw new Error('too many redirects');
}

export { assert };
