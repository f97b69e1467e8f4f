// Type declarations of libmcpauth, the Node binding of the libmcpauth C core.
/// <reference types="node" />
import type { IncomingMessage, ServerResponse } from 'node:http';

// ---- results -----------------------------------------------------------------------------

/** The authenticated user (the seed's ctx.auth.user). Providers add extras (WorkOS organization_id, ...). */
export interface UserInfo {
  userId: string;
  email?: string;
  name?: string;
  username?: string;
  nickname?: string;
  picture?: string;
  roles?: string[];
  permissions?: string[];
  [extra: string]: unknown;
}

/** The auth context of a request: the seed's ctx.auth. Objects from the cache are frozen. */
export interface AuthInfo {
  user: UserInfo;
  /** The raw bearer token. */
  accessToken?: string;
  /** From the token's `scope` (and `scp`) claims. */
  scopes: string[];
  /** From the token's `permissions` claim (and provider mappings). */
  permissions: string[];
  /** Every claim of the verified token. */
  payload: Record<string, unknown>;
  clientId?: string | null;
  /** Seconds since the epoch. */
  expiresAt?: number | null;
  /** The RFC 8707 resource the token was bound to, when the engine has one. */
  resource?: string | null;
}

/** The SDKs' AuthInfo (@modelcontextprotocol/sdk 1.x and @modelcontextprotocol/server 2.x). */
export interface SdkAuthInfo {
  token: string;
  clientId: string;
  scopes: string[];
  expiresAt?: number;
  resource?: URL;
  extra?: { user: UserInfo; payload: Record<string, unknown>; permissions: string[]; mcpauth: AuthInfo } & Record<string, unknown>;
}

/** The SDKs' token verifier interface. */
export interface OAuthTokenVerifier {
  verifyAccessToken(token: string): Promise<SdkAuthInfo>;
}

/** The router's final decision for one request (provider.decide). */
export type Decision =
  | { action: 'pass'; auth?: AuthInfo }
  | { action: 'respond'; status: number; headers: Array<[string, string]>; body: string; code?: number };

/** The router's input: one HTTP request, header names lower-case. */
export interface RouterRequest {
  method: string;
  path: string;
  query?: string;
  headers: Record<string, string>;
  body?: string;
  bodyTruncated?: boolean;
  peer?: string;
}

// ---- errors ------------------------------------------------------------------------------

/** The stable numbered codes of libmcpauth (enum mcpauth_code), never renumbered. */
export declare const Code: {
  readonly OK: 0;
  readonly INVALID_ARGUMENT: 1;
  readonly NOMEM: 2;
  readonly CONFIG: 3;
  readonly INTERNAL: 4;
  readonly TOKEN_MISSING: 10;
  readonly TOKEN_TOO_LARGE: 11;
  readonly TOKEN_MALFORMED: 12;
  readonly TOKEN_HEADER: 13;
  readonly ALG_NOT_ALLOWED: 14;
  readonly KEY_NOT_FOUND: 15;
  readonly BAD_SIGNATURE: 16;
  readonly EXPIRED: 17;
  readonly NOT_YET_VALID: 18;
  readonly ISSUER_MISMATCH: 19;
  readonly AUDIENCE_MISMATCH: 20;
  readonly CLAIM_INVALID: 21;
  readonly TOKEN_INACTIVE: 22;
  readonly MALFORMED_HEADER: 23;
  readonly INSUFFICIENT_SCOPE: 30;
  readonly WOULD_BLOCK: 40;
  readonly KEYS_UNAVAILABLE: 41;
  readonly UPSTREAM: 42;
  readonly TOKEN_IN_QUERY: 43;
};
export type Code = (typeof Code)[keyof typeof Code];

/** A libmcpauth failure: a numbered code and a detail for logs. */
export declare class McpAuthError extends Error {
  readonly code: number;
  /** e.g. "MCPAUTH_E_EXPIRED" */
  readonly codeName: string;
  readonly detail: string;
}
/** A wrong configuration; the message names the option and its environment variable. */
export declare class ConfigError extends McpAuthError {}
/** A request that is not authorized; `detail` never contains the token. */
export declare class AuthError extends McpAuthError {
  /** "invalid_token", "insufficient_scope", "invalid_request", "temporarily_unavailable", ... */
  readonly oauthError: string | null;
  /** 401, 403, 400, 503, ... */
  readonly httpStatus: number;
}

export declare function codeName(code: number): string;
export declare function strerror(code: number): string;
export declare function oauthError(code: number): string | null;
export declare function httpStatus(code: number): number;

// ---- options -----------------------------------------------------------------------------

/** `getUserInfo(payload)`: the seed's mapping of claims to ctx.auth.user. */
export type GetUserInfo = (payload: Record<string, unknown>) => Partial<UserInfo> & { userId: string } | Promise<Partial<UserInfo> & { userId: string }>;
/** `verifyToken(token)`: the claims (or `{ payload }`) of a token the host verified; throw to reject. */
export type VerifyToken = (token: string) => Record<string, unknown> | { payload: Record<string, unknown> } | Promise<Record<string, unknown> | { payload: Record<string, unknown> }>;

/** Options every factory takes. Any other key of the core's configuration may be given too. */
export interface CommonOptions {
  /** Public origin (MCP_URL); the resource is baseUrl + mcpPath. */
  baseUrl?: string | URL;
  /** MCP endpoint path, default "/mcp". */
  mcpPath?: string;
  /** The RFC 8707 resource URL, when it is not baseUrl + mcpPath. */
  resource?: string | URL;
  audience?: string | string[];
  requiredScopes?: string[];
  scopesSupported?: string[];
  algorithms?: string[];
  leewaySeconds?: number;
  /** A claim map: { email: "mail", tenant: "attributes.tenant" }. */
  claims?: Record<string, string>;
  verifyJwt?: boolean;
  routeScopes?: Record<string, string | string[]>;
  protectedPaths?: string[];
  resourceName?: string;
  getUserInfo?: GetUserInfo;
  /** Read MCP_USE_OAUTH_* / MCP_URL / MCPAUTH_SEALING_SECRET (default true). */
  useEnv?: boolean;
  /** Fetch remote keys while creating the provider (errors ignored). */
  prefetch?: boolean;
  /** More keys of the core's configuration (docs/config.md), as they are. */
  options?: Record<string, unknown>;
  [coreOption: string]: unknown;
}

export interface Auth0Options extends CommonOptions { domain?: string }
export interface BetterAuthOptions extends CommonOptions { authURL?: string }
export interface ClerkOptions extends CommonOptions { frontendApiUrl?: string }
export interface WorkOSOptions extends CommonOptions { subdomain?: string }
export interface SupabaseOptions extends CommonOptions { projectId?: string; supabaseUrl?: string; jwtSecret?: string }
export interface KeycloakOptions extends CommonOptions { serverUrl?: string; realm?: string }
export interface CustomProviderOptions extends CommonOptions {
  issuer: string;
  authEndpoint: string;
  tokenEndpoint: string;
  jwksUrl?: string;
  userInfoEndpoint?: string;
  grantTypes?: string[];
  verifyToken?: VerifyToken;
}
export interface JwksVerifierOptions extends CommonOptions {
  jwksUrl?: string;
  jwks?: { keys: Array<Record<string, unknown>> };
  publicKey?: string;
  secret?: string;
  issuer?: string;
}
export interface OAuthProxyOptions {
  clientId: string;
  clientSecret?: string;
  authEndpoint?: string;
  tokenEndpoint?: string;
  issuer?: string;
  scopes?: string[] | string;
  grantTypes?: string[];
  extraAuthorizeParams?: Record<string, string>;
  /** At least 32 bytes, the same on every replica (env MCPAUTH_SEALING_SECRET). */
  sealingSecret?: string;
  previousSecrets?: string[];
  tokenEndpointAuthMethod?: 'client_secret_post' | 'client_secret_basic';
  preset?: 'google' | 'github' | 'okta' | 'azure';
  domain?: string;
  tenant?: string;
  allowedRedirectUris?: string[] | string;
  /** Scopes a client may ask for (default: scopes + the resource's required and supported scopes). */
  allowedScopes?: string[] | string;
  /** audience values a client may pass to /authorize. */
  allowedAudiences?: string[] | string;
  consent?: boolean;
  serverName?: string;
  forwardResource?: boolean;
  codeTtlSeconds?: number;
  stateTtlSeconds?: number;
  clientTtlSeconds?: number;
  consentTtlSeconds?: number;
  /** The HTTP(S) proxy client metadata documents are fetched through ("http://host:port"); without it they are fetched directly. */
  clientMetadataProxy?: string;
  /** Any other key of the core's "proxy" object. */
  proxyOptions?: Record<string, unknown>;
  /** The upstream tokens' verifier: a jwksVerifier(...) or a function returning the claims. */
  verifyToken: OAuthProvider | VerifyToken;
  baseUrl?: string | URL;
  mcpPath?: string;
  getUserInfo?: GetUserInfo;
  useEnv?: boolean;
  prefetch?: boolean;
  options?: Record<string, unknown>;
  [coreOption: string]: unknown;
}

// ---- the provider ------------------------------------------------------------------------

export interface MinimalExpressRequest extends IncomingMessage {
  body?: unknown;
  auth?: SdkAuthInfo;
  mcpauth?: AuthInfo;
}
export type ExpressMiddleware = (req: any, res: any, next: (err?: unknown) => void) => void;
export type NodeListener = (req: IncomingMessage, res: ServerResponse) => void;

/** RFC 8414 authorization server metadata. */
export interface AuthorizationServerMetadata {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  response_types_supported: string[];
  registration_endpoint?: string;
  scopes_supported?: string[];
  code_challenge_methods_supported?: string[];
  [member: string]: unknown;
}

/** mcp-use's `oauth:` provider shape. */
export interface McpUseProvider {
  createTokenVerifier(resource: URL): OAuthTokenVerifier;
  oauthMetadata: AuthorizationServerMetadata;
  mapAuthInfo(authInfo: { extra?: Record<string, unknown> }): { user: UserInfo; payload: Record<string, unknown>; permissions: string[] };
  resource?: string;
  requiredScopes?: string[];
  scopesSupported?: string[];
  resourceName?: string;
}

/** One libmcpauth engine: verification, metadata, the router and the plug-in points. */
export declare class OAuthProvider implements McpUseProvider {
  constructor(config: Record<string, unknown>, opts?: { useEnv?: boolean; prefetch?: boolean; getUserInfo?: GetUserInfo; verifyToken?: VerifyToken });
  /** The configuration given to the core. */
  readonly options: Record<string, unknown>;
  /** The resolved configuration (after presets and env), without secrets. */
  readonly config: Readonly<Record<string, unknown>>;
  /** The preset: "auth0", "keycloak", "jwks", "custom", ... */
  readonly name: string;
  readonly closed: boolean;
  readonly verifyTokenFn: VerifyToken | null;
  readonly getUserInfoFn: GetUserInfo | null;

  /** Verifies a bearer token (without "Bearer "); rejects with AuthError. */
  verify(token: string, opts?: { noCache?: boolean }): Promise<AuthInfo>;
  /** verify(), synchronously (blocks when keys must be fetched). */
  verifySync(token: string, opts?: { noCache?: boolean }): AuthInfo;
  tryVerify(token: string, opts?: { noCache?: boolean }): Promise<{ auth: AuthInfo; error?: undefined } | { auth?: undefined; error: AuthError }>;
  /** Maps claims the host verified itself (mcpauth_map_claims). */
  mapClaims(claims: Record<string, unknown>, token?: string): AuthInfo;

  protectedResourceMetadata(): Record<string, unknown>;
  authorizationServerMetadata(): Promise<AuthorizationServerMetadata>;
  authorizationServerMetadataSync(): AuthorizationServerMetadata;
  challenge(code?: number, opts?: { scope?: string; description?: string }): string;

  /** The router, second form: the core's final decision for one request. */
  decide(request: RouterRequest, readBody?: (maxBytes: number) => Promise<{ body: string } | { truncated: true }>): Promise<Decision>;
  /** fetch hosts: a Response when the core answers, undefined when the request goes on. */
  route(request: Request, opts?: { peer?: string }): Promise<Response | undefined>;
  /** Express 4/5 middleware (sets req.auth and req.mcpauth on a pass). */
  express(): ExpressMiddleware;
  /** A node:http listener running the router before `inner`. */
  nodeHandler(inner?: (req: MinimalExpressRequest, res: ServerResponse) => unknown): NodeListener;
  /** fastmcp's `authenticate` option: resolves to the AuthInfo or throws the core's challenge as a Response. */
  fastmcp(): (request: IncomingMessage) => Promise<AuthInfo | undefined>;
  /** SDK v1 verifier (requireBearerAuth); `errors`: the host's '@modelcontextprotocol/sdk/server/auth/errors.js'. */
  sdkVerifier(errors?: unknown): OAuthTokenVerifier;
  /** SDK v2 verifier (verifyBearerToken, adapters); `server`: the host's '@modelcontextprotocol/server'. */
  serverVerifier(server?: unknown): OAuthTokenVerifier;

  // mcp-use 2.x
  createTokenVerifier(resource: URL): OAuthTokenVerifier;
  readonly oauthMetadata: AuthorizationServerMetadata;
  mapAuthInfo(authInfo: { extra?: Record<string, unknown> }): { user: UserInfo; payload: Record<string, unknown>; permissions: string[] };
  readonly resource: string | undefined;
  readonly requiredScopes: string[] | undefined;
  readonly scopesSupported: string[] | undefined;
  readonly resourceName: string | undefined;
  /** A plain mcp-use provider object, with the authorization server metadata fetched first. */
  mcpUse(): Promise<McpUseProvider>;

  /** Frees the engine (after the calls in flight). */
  close(): void;
}

// ---- factories ---------------------------------------------------------------------------

export declare function oauthAuth0Provider(opts?: Auth0Options): OAuthProvider;
export declare function oauthBetterAuthProvider(opts?: BetterAuthOptions): OAuthProvider;
export declare function oauthClerkProvider(opts?: ClerkOptions): OAuthProvider;
export declare function oauthWorkOSProvider(opts?: WorkOSOptions): OAuthProvider;
export declare function oauthSupabaseProvider(opts?: SupabaseOptions): OAuthProvider;
export declare function oauthKeycloakProvider(opts?: KeycloakOptions): OAuthProvider;
export declare function oauthCustomProvider(opts: CustomProviderOptions): OAuthProvider;
export declare function jwksVerifier(opts?: JwksVerifierOptions): OAuthProvider;
export declare function oauthProxy(opts: OAuthProxyOptions): OAuthProvider;

// ---- helpers -----------------------------------------------------------------------------

/** The AuthInfo provider.route() attached to a fetch Request it passed. */
export declare function authOf(request: Request): AuthInfo | undefined;
/** The SDK's AuthInfo for one of ours. */
export declare function toSdkAuthInfo(auth: AuthInfo, resource?: string | URL): SdkAuthInfo;
/** The version of the C core compiled into the addon. */
export declare function coreVersion(): string;
/** Decodes a token WITHOUT verifying it (development only). */
export declare function decodeUnverified(token: string): { verified: false; header: Record<string, unknown>; payload: Record<string, unknown> };
export declare const version: string;

declare const libmcpauth: {
  oauthAuth0Provider: typeof oauthAuth0Provider;
  oauthBetterAuthProvider: typeof oauthBetterAuthProvider;
  oauthClerkProvider: typeof oauthClerkProvider;
  oauthWorkOSProvider: typeof oauthWorkOSProvider;
  oauthSupabaseProvider: typeof oauthSupabaseProvider;
  oauthKeycloakProvider: typeof oauthKeycloakProvider;
  oauthCustomProvider: typeof oauthCustomProvider;
  jwksVerifier: typeof jwksVerifier;
  oauthProxy: typeof oauthProxy;
  OAuthProvider: typeof OAuthProvider;
  McpAuthError: typeof McpAuthError;
  ConfigError: typeof ConfigError;
  AuthError: typeof AuthError;
  Code: typeof Code;
  codeName: typeof codeName;
  strerror: typeof strerror;
  oauthError: typeof oauthError;
  httpStatus: typeof httpStatus;
  authOf: typeof authOf;
  toSdkAuthInfo: typeof toSdkAuthInfo;
  coreVersion: typeof coreVersion;
  decodeUnverified: typeof decodeUnverified;
  version: string;
};
export default libmcpauth;
