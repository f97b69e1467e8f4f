// ESM entry: the CommonJS module's exports, by name.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const m = require('./index.js');

export const {
  oauthAuth0Provider,
  oauthBetterAuthProvider,
  oauthClerkProvider,
  oauthWorkOSProvider,
  oauthSupabaseProvider,
  oauthKeycloakProvider,
  oauthCustomProvider,
  jwksVerifier,
  oauthProxy,
  OAuthProvider,
  McpAuthError,
  ConfigError,
  AuthError,
  Code,
  codeName,
  strerror,
  oauthError,
  httpStatus,
  authOf,
  toSdkAuthInfo,
  coreVersion,
  decodeUnverified,
  version,
} = m;
export default m;
