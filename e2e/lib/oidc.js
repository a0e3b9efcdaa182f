// A generic OpenID provider for the end-to-end suite (Okta, Keycloak… stand-in),
// built on panva's certified oidc-provider, mounted at the root of its own port:
//
//   issuer      http://127.0.0.1:PORT            (exactly; discovery under it)
//   discovery   /.well-known/openid-configuration
//
// People sign in on a small login page of ours (the provider's own interaction API),
// which checks the password and tells the provider how the person authenticated
// (`amr`): each user says whether they used a second factor. Each user also says
// whether the provider vouches for their address (`email_verified`). No consent
// prompt: the grant for openid profile email is always there.

import { randomBytes, generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import querystring from 'node:querystring';

import Provider from 'oidc-provider';

function signingKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomBytes(12).toString('base64url'), alg: 'RS256', use: 'sig' };
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * Starts the provider on 127.0.0.1 (random port).
 * @param {{users: Array<{email, password, name, emailVerified: boolean, amr: string[]}>,
 *          client: {clientId, secret, redirectUris: string[]}}} spec
 */
export async function startOidcProvider(spec) {
  const server = http.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${server.address().port}`;
  const users = new Map(spec.users.map((u) => [u.email.toLowerCase(), u]));
  const provider = new Provider(base, {
    clients: [{
      client_id: spec.client.clientId,
      client_secret: spec.client.secret,
      redirect_uris: spec.client.redirectUris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
    }],
    jwks: { keys: [signingKey()] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    scopes: ['openid', 'profile', 'email'],
    // `amr` is released with the openid scope (by default only on request).
    claims: { openid: ['sub', 'amr'], profile: ['name'], email: ['email', 'email_verified'] },
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: false }, rpInitiatedLogout: { enabled: false } },
    pkce: { required: () => true },
    enabledJWA: { idTokenSigningAlgValues: ['RS256'] },
    findAccount: (ctx, sub) => {
      const user = users.get(String(sub));
      if (!user) return undefined;
      return {
        accountId: sub,
        claims: async () => ({ sub, email: user.email, email_verified: user.emailVerified, name: user.name }),
      };
    },
    loadExistingGrant: async (ctx) => {
      const { client, session } = ctx.oidc;
      const existing = session.grantIdFor(client.clientId);
      if (existing) return ctx.oidc.provider.Grant.find(existing);
      const grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
      grant.addOIDCScope('openid profile email');
      await grant.save();
      return grant;
    },
  });
  provider.on('server_error', (ctx, err) => console.error('oidc provider: server error', err));
  const callback = provider.callback();
  const loginPage = (uid, error) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Corp ID sign-in</title></head>
<body><main><h1>Corp ID</h1>${error ? `<p role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}">
<label>Email <input name="login" type="email"></label>
<label>Password <input name="password" type="password"></label>
<button type="submit">Sign-in</button></form></main></body></html>`;
  server.on('request', async (req, res) => {
    try {
      const url = new URL(req.url, base);
      const match = /^\/interaction\/([^/]+)$/.exec(url.pathname);
      if (match) {
        const details = await provider.interactionDetails(req, res);
        if (req.method === 'GET') {
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
          return res.end(loginPage(details.uid));
        }
        const form = querystring.parse(await readBody(req));
        const user = users.get(String(form.login || '').toLowerCase());
        if (!user || user.password !== form.password) {
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
          return res.end(loginPage(details.uid, 'Wrong email or password.'));
        }
        return provider.interactionFinished(req, res, { login: { accountId: user.email.toLowerCase(), amr: user.amr } }, { mergeWithLastSubmission: false });
      }
      return callback(req, res);
    } catch (err) {
      console.error('oidc provider:', err);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    }
  });
  return {
    base,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }),
  };
}
