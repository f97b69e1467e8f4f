// jwt.mjs - test keys and tokens with node:crypto only.
//   node jwt.mjs keygen KEYFILE          writes {"private":JWK,"public":JWK} (ES256, kid "http-1")
//                                        and prints the public JWKS on stdout
//   node jwt.mjs mint KEYFILE CLAIMS     prints a compact ES256 JWS of the CLAIMS JSON text;
//                                        "$now" inside numbers is not supported: pass numbers
import crypto from 'node:crypto';
import fs from 'node:fs';
import process from 'node:process';

const [cmd, file, claims] = process.argv.slice(2);
const b64 = (buf) => Buffer.from(buf).toString('base64url');

if (cmd === 'keygen') {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pub = { ...publicKey.export({ format: 'jwk' }), kid: 'http-1', alg: 'ES256', use: 'sig' };
  const priv = { ...privateKey.export({ format: 'jwk' }), kid: 'http-1', alg: 'ES256' };
  fs.writeFileSync(file, JSON.stringify({ private: priv, public: pub }));
  process.stdout.write(`${JSON.stringify({ keys: [pub] })}\n`);
} else if (cmd === 'mint') {
  const keys = JSON.parse(fs.readFileSync(file, 'utf8'));
  const key = crypto.createPrivateKey({ key: keys.private, format: 'jwk' });
  const header = b64(JSON.stringify({ alg: 'ES256', typ: 'JWT', kid: keys.private.kid }));
  const payload = b64(JSON.stringify(JSON.parse(claims)));
  const sig = crypto.sign('sha256', Buffer.from(`${header}.${payload}`), {
    key,
    dsaEncoding: 'ieee-p1363',
  });
  process.stdout.write(`${header}.${payload}.${b64(sig)}\n`);
} else {
  process.stderr.write('usage: jwt.mjs keygen KEYFILE | mint KEYFILE CLAIMS_JSON\n');
  process.exit(2);
}
