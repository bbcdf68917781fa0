// A real OpenID provider (panva/oidc-provider) on loopback for tmfstack's OAuth resource-server tests.
//
// It issues client-credentials access tokens as RFC 9068 JWTs (`typ: at+jwt`) signed with keys it
// generates at start (EC P-256 for ES256 and RSA 2048 for RS256, both published at the jwks_uri).
//
// Usage: node provider.mjs [--port N] [--config FILE | --config-json JSON] [--stdin-lifeline]
//   env: TMFSTACK_IDP_PORT, TMFSTACK_IDP_CONFIG (a JSON document, or the path of one)
//   --port 0 (the default) picks a free port; the issuer is http://127.0.0.1:<the port listened on>.
//   --stdin-lifeline exits when standard input closes, so the provider dies with the process that started it.
//
// Config (every key optional):
// {
//   "access_token_alg": "ES256",                 // ES256 or RS256, for every resource without its own "alg"
//   "default_resource": "urn:tmfstack:api",      // the token's aud when the client requests no resource
//   "default_ttl": 300,                          // access token lifetime (s) of clients without their own
//   "resources": {"urn:tmfstack:api": {"scope": "tmf620:read admin", "alg": "RS256", "ttl": 600}},
//   "clients": [{"client_id": "partner-a", "client_secret": "...", "auth": "client_secret_basic",
//                "scope": "tmf620:read", "party_id": "org-a", "access_token_ttl": 2}]
// }
// A client's "scope" is what it may ask for (default: every resource scope); asking for more is
// refused with invalid_scope. Its "party_id", when set, becomes the access token claim `party_id`.
//
// Prints `READY <issuer>` on stdout once listening; errors go to stderr; SIGTERM/SIGINT stop it.

import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import process from 'node:process';

import Provider, { errors } from 'oidc-provider';

const DEFAULT_SCOPE = 'tmf620:read tmf620:write tmf622:read tmf622:write admin';
const DEFAULTS = {
  access_token_alg: 'ES256',
  default_resource: 'urn:tmfstack:api',
  default_ttl: 300,
  resources: {
    'urn:tmfstack:api': { scope: DEFAULT_SCOPE },
    'urn:other:api': { scope: DEFAULT_SCOPE },
  },
  clients: [
    { client_id: 'operator', client_secret: 'operator-secret' },
    { client_id: 'partner-a', client_secret: 'partner-a-secret', party_id: 'org-a' },
  ],
};
const ALGS = new Set(['ES256', 'RS256']);
const AUTH_METHODS = new Set(['client_secret_basic', 'client_secret_post']);

function fail(message) {
  process.stderr.write(`idp: ${message}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const args = { port: process.env.TMFSTACK_IDP_PORT, config: process.env.TMFSTACK_IDP_CONFIG, lifeline: false };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) fail(`${arg} needs a value`);
      i += 1;
      return argv[i];
    };
    if (arg === '--port') args.port = value();
    else if (arg === '--config' || arg === '--config-json') args.config = value();
    else if (arg === '--stdin-lifeline') args.lifeline = true;
    else fail(`unknown argument ${arg}`);
  }
  return args;
}

function loadConfig(source) {
  if (!source) return { ...DEFAULTS };
  let text = source;
  if (!source.trimStart().startsWith('{')) {
    try {
      text = readFileSync(source, 'utf8');
    } catch (err) {
      fail(`cannot read config ${source}: ${err.message}`);
    }
  }
  let config;
  try {
    config = JSON.parse(text);
  } catch (err) {
    fail(`config is not JSON: ${err.message}`);
  }
  return { ...DEFAULTS, ...config };
}

const positiveInt = (value) => Number.isSafeInteger(value) && value > 0;

function validate(config) {
  if (!ALGS.has(config.access_token_alg)) fail(`access_token_alg must be one of ${[...ALGS]}`);
  if (!positiveInt(config.default_ttl)) fail('default_ttl must be a positive integer');
  const resources = Object.entries(config.resources ?? {});
  if (!resources.length) fail('config needs at least one resource');
  for (const [id, rs] of resources) {
    if (typeof rs?.scope !== 'string') fail(`resource ${id} needs a scope string`);
    if (rs.alg !== undefined && !ALGS.has(rs.alg)) fail(`resource ${id}: alg must be one of ${[...ALGS]}`);
    if (rs.ttl !== undefined && !positiveInt(rs.ttl)) fail(`resource ${id}: ttl must be a positive integer`);
  }
  if (!config.resources[config.default_resource]) fail(`default_resource ${config.default_resource} is no resource`);
  if (!Array.isArray(config.clients) || !config.clients.length) fail('config needs a list of clients');
  for (const client of config.clients) {
    if (typeof client?.client_id !== 'string' || typeof client.client_secret !== 'string') {
      fail('every client needs a client_id and a client_secret');
    }
    if (client.auth !== undefined && !AUTH_METHODS.has(client.auth)) {
      fail(`client ${client.client_id}: auth must be one of ${[...AUTH_METHODS]}`);
    }
  }
}

function signingKeys() {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  return [
    { ...ec, kid: `es256-${randomUUID().slice(0, 8)}`, alg: 'ES256', use: 'sig' },
    { ...rsa, kid: `rs256-${randomUUID().slice(0, 8)}`, alg: 'RS256', use: 'sig' },
  ];
}

function providerConfiguration(config, findClient) {
  const resourceScopes = new Set(Object.values(config.resources).flatMap((rs) => rs.scope.split(' ').filter(Boolean)));
  const clients = config.clients.map((c) => ({
    client_id: c.client_id,
    client_secret: c.client_secret,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: c.auth ?? 'client_secret_basic',
    scope: c.scope ?? [...resourceScopes].join(' '),
    ...(c.party_id != null ? { party_id: c.party_id } : {}),
    ...(c.access_token_ttl != null ? { access_token_ttl: c.access_token_ttl } : {}),
  }));
  const clientMeta = (client) => client?.metadata() ?? {};

  return {
    clients,
    // scopes the provider knows: a client's "scope" metadata may only list these, and a request for
    // one of them outside the client's list is refused with invalid_scope
    scopes: ['openid', 'offline_access', ...resourceScopes],
    clientAuthMethods: [...AUTH_METHODS],
    extraClientMetadata: {
      properties: ['party_id', 'access_token_ttl'],
      validator(_ctx, key, value) {
        if (value === undefined) return;
        if (key === 'party_id' && (typeof value !== 'string' || !value)) {
          throw new Error('party_id must be a non-empty string');
        }
        if (key === 'access_token_ttl' && !positiveInt(value)) {
          throw new Error('access_token_ttl must be a positive integer');
        }
      },
    },
    jwks: { keys: signingKeys() },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // client_credentials with no `resource` parameter: this one (otherwise non-OIDC scopes are dropped
        // and the token would be opaque)
        defaultResource: async (_ctx, _client, oneOf) => oneOf ?? config.default_resource,
        getResourceServerInfo: async (_ctx, resource) => {
          const rs = config.resources[resource];
          if (!rs) throw new errors.InvalidTarget(`unknown resource ${resource}`);
          return {
            scope: rs.scope,
            accessTokenFormat: 'jwt',
            ...(rs.ttl ? { accessTokenTTL: rs.ttl } : {}),
            jwt: { sign: { alg: rs.alg ?? config.access_token_alg } },
          };
        },
      },
    },
    extraTokenClaims: async (ctx, token) => {
      const client = ctx?.oidc?.client?.clientId === token.clientId ? ctx.oidc.client : await findClient(token.clientId);
      const partyId = clientMeta(client).party_id;
      return partyId ? { party_id: partyId } : undefined;
    },
    ttl: {
      ClientCredentials: (_ctx, token, client) =>
        clientMeta(client).access_token_ttl ?? token.resourceServer?.accessTokenTTL ?? config.default_ttl,
      AccessToken: (_ctx, token, client) =>
        clientMeta(client).access_token_ttl ?? token.resourceServer?.accessTokenTTL ?? config.default_ttl,
    },
    cookies: { keys: [randomUUID()] },
    // no end-user accounts: only clients act here
    findAccount: async () => undefined,
  };
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  const config = loadConfig(args.config);
  validate(config);
  const port = args.port === undefined || args.port === '' ? 0 : Number(args.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`bad port ${args.port}`);

  // Listen first, so that port 0 works: the issuer needs the port that was bound.
  let handler = (_req, res) => {
    res.statusCode = 503;
    res.end();
  };
  const server = http.createServer((req, res) => handler(req, res));
  server.on('error', (err) => fail(`cannot listen on 127.0.0.1:${port}: ${err.message}`));
  server.listen(port, '127.0.0.1', () => {
    const issuer = `http://127.0.0.1:${server.address().port}`;
    let provider;
    try {
      provider = new Provider(issuer, providerConfiguration(config, (id) => provider.Client.find(id)));
    } catch (err) {
      fail(`bad provider configuration: ${err.stack ?? err}`);
    }
    provider.on('server_error', (_ctx, err) => process.stderr.write(`idp: server_error ${err.stack ?? err}\n`));
    provider.on('grant.error', (_ctx, err) => {
      if (err.statusCode >= 500) process.stderr.write(`idp: grant.error ${err.stack ?? err}\n`);
    });
    handler = provider.callback();
    process.stdout.write(`READY ${issuer}\n`);
  });

  const stop = (why) => {
    process.stderr.write(`idp: stopping (${why})\n`);
    server.close();
    server.closeAllConnections?.();
    process.exit(0);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  if (args.lifeline) {
    process.stdin.on('end', () => stop('stdin closed'));
    process.stdin.on('error', () => stop('stdin error'));
    process.stdin.resume();
  }
}

main();
