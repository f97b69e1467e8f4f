// consumer.ts - a TypeScript consumer of libmcpauth, compiled with `tsc --strict --noEmit`
// (never run): the declarations must describe every entry point a host uses.
import http from 'node:http';

import { AuthError, Code, ConfigError, jwksVerifier, oauthAuth0Provider, oauthCustomProvider, oauthProxy, type AuthInfo, type OAuthProvider } from 'libmcpauth';
import libmcpauth from 'libmcpauth';
import { MCPServer } from 'mcp-use';

const verifier: OAuthProvider = jwksVerifier({ jwksUrl: 'https://idp.example.com/jwks', issuer: 'https://idp.example.com', baseUrl: 'https://mcp.example.com' });
const auth0 = oauthAuth0Provider({ domain: 'acme.us.auth0.com', audience: 'https://api.acme.test' });
const custom = oauthCustomProvider({
  issuer: 'https://idp.example.com',
  authEndpoint: 'https://idp.example.com/authorize',
  tokenEndpoint: 'https://idp.example.com/token',
  verifyToken: async (token: string) => ({ payload: { sub: token.slice(0, 4) } }),
  getUserInfo: (payload) => ({ userId: String(payload.sub), email: payload.mail as string }),
});
const proxy = oauthProxy({ authEndpoint: 'https://idp.example.com/authorize', tokenEndpoint: 'https://idp.example.com/token', clientId: 'c', clientSecret: 's', verifyToken: verifier, baseUrl: 'https://mcp.example.com' });

async function use(token: string): Promise<string | undefined> {
  try {
    const a: AuthInfo = await verifier.verify(token);
    const s: AuthInfo = verifier.verifySync(token);
    const scopes: string[] = a.scopes;
    const email: string | undefined = s.user.email;
    return `${a.user.userId} ${scopes.join(' ')} ${email ?? ''} ${a.payload.iss as string}`;
  } catch (e) {
    if (e instanceof AuthError) {
      const status: number = e.httpStatus;
      const err: string | null = e.oauthError;
      if (e.code === Code.EXPIRED) return `${status} ${err ?? ''} ${e.detail}`;
    }
    if (e instanceof ConfigError) return e.codeName;
    throw e;
  }
}

// fetch hosts
async function handle(request: Request, next: (r: Request) => Promise<Response>): Promise<Response> {
  return (await proxy.route(request)) ?? next(request);
}

// node:http
http.createServer(auth0.nodeHandler((req, res) => res.end(JSON.stringify(req.mcpauth?.user ?? null))));

// SDK verifiers
const v1 = custom.sdkVerifier();
const v2 = custom.serverVerifier();
void v1.verifyAccessToken('t').then((i) => i.resource?.href);
void v2.verifyAccessToken('t');

// mcp-use: the provider itself is the `oauth:` option
const server = new MCPServer({ name: 'typed', version: '1.0.0', oauth: verifier });
void server;
void libmcpauth.coreVersion();
void use;
void handle;
