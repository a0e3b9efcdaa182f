// An Entra ID look-alike for the end-to-end suite, built on panva's certified
// oidc-provider: one provider instance per tenant, mounted under the tenant's path so
// that every URL has Entra's v2.0 shape:
//
//   issuer      http://127.0.0.1:PORT/<tenant>/v2.0
//   discovery   /<tenant>/v2.0/.well-known/openid-configuration
//   keys        /<tenant>/discovery/v2.0/keys
//   authorize   /<tenant>/oauth2/v2.0/authorize
//   token       /<tenant>/oauth2/v2.0/token
//   consent     /<tenant>/v2.0/adminconsent   (a small page of ours, as Entra's is not OIDC)
//
// People sign in through the provider's own interaction pages (its login form and,
// where a tenant has not consented to an app, its consent page). Only the password
// check in front of the login form is ours: the provider's development login form
// accepts any password, Entra does not.
//
// Tenant model, as at Entra: an app is registered in its home tenant; a multi-tenant
// app becomes usable in another tenant once that tenant's admin consents. Before
// consent, a client-credentials request answers AADSTS700016 and users are asked for
// consent themselves; after it, nobody is asked.

import { randomBytes, randomUUID, generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import querystring from 'node:querystring';

import Provider from 'oidc-provider';

const GUID = /^\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(\/.*)?$/;

/** An RS256 signing key as a private JWK with a key id, like Entra's rotating keys. */
function signingKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomBytes(12).toString('base64url'), alg: 'RS256', use: 'sig' };
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Entra's JSON error body, with its AADSTS code first in the description. */
function entraError(res, status, error, code, message) {
  const body = {
    error,
    error_description: `AADSTS${code}: ${message}\r\nTrace ID: ${randomUUID()}\r\nCorrelation ID: ${randomUUID()}\r\nTimestamp: ${new Date().toISOString()}`,
    error_codes: [code],
    timestamp: new Date().toISOString(),
    trace_id: randomUUID(),
    correlation_id: randomUUID(),
  };
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

class Tenant {
  /**
   * @param {string} base  http://127.0.0.1:PORT
   * @param {{id: string, name: string, users: Array<{email: string, password: string, name: string, oid?: string}>}} spec
   * @param {Map<string, object>} apps  every app registration, by client id
   */
  constructor(base, spec, apps) {
    this.id = spec.id;
    this.name = spec.name;
    this.issuer = `${base}/${spec.id}/v2.0`;
    this.users = new Map(spec.users.map((u) => [u.email.toLowerCase(), { oid: randomUUID(), ...u }]));
    /** Client ids usable in this tenant (home apps, and multi-tenant apps after consent). */
    this.consented = new Set();
    this.apps = apps;
    const short = spec.id.slice(0, 8);
    this.provider = new Provider(this.issuer, {
      clients: [...apps.values()].map((app) => ({
        client_id: app.clientId,
        client_secret: app.secret,
        redirect_uris: app.redirectUris,
        grant_types: ['authorization_code', 'client_credentials'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_post',
        id_token_signed_response_alg: 'RS256',
      })),
      jwks: { keys: [signingKey()] },
      // All tenants share one host: their cookies must not overwrite each other.
      cookies: {
        keys: [randomBytes(32).toString('base64url')],
        names: { session: `_session_${short}`, interaction: `_interaction_${short}`, resume: `_interaction_resume_${short}` },
      },
      scopes: ['openid', 'profile', 'email', 'offline_access'],
      claims: {
        openid: ['sub', 'tid', 'oid'],
        profile: ['name', 'preferred_username'],
        email: ['email'],
      },
      // Entra puts the profile and email claims into the ID token itself; by default
      // oidc-provider keeps them for the userinfo endpoint when an access token is
      // issued too (OIDC Core 5.4).
      conformIdTokenClaims: false,
      features: {
        devInteractions: { enabled: true },
        clientCredentials: { enabled: true },
        rpInitiatedLogout: { enabled: false },
      },
      routes: {
        authorization: '/oauth2/v2.0/authorize',
        token: '/oauth2/v2.0/token',
        jwks: '/discovery/v2.0/keys',
        userinfo: '/oidc/userinfo',
      },
      pkce: { required: () => true },
      ttl: { AccessToken: 3600, AuthorizationCode: 600, ClientCredentials: 3600, Grant: 3600, IdToken: 3600, Interaction: 600, Session: 3600 },
      enabledJWA: { idTokenSigningAlgValues: ['RS256'] },
      findAccount: (ctx, sub) => this.account(sub),
      // A tenant that consented to an app (or owns it) is not asked again.
      loadExistingGrant: async (ctx) => {
        const { client, session } = ctx.oidc;
        const existing = ctx.oidc.result?.consent?.grantId || session.grantIdFor(client.clientId);
        if (existing) return ctx.oidc.provider.Grant.find(existing);
        if (!this.consented.has(client.clientId)) return undefined;
        const grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
        grant.addOIDCScope('openid profile email');
        await grant.save();
        return grant;
      },
    });
    this.provider.on('server_error', (ctx, err) => console.error(`entra ${short}: server error`, err));
    this.callback = this.provider.callback();
  }

  account(login) {
    const user = this.users.get(String(login).toLowerCase());
    if (!user) return undefined;
    return {
      accountId: user.email.toLowerCase(),
      claims: async () => ({
        sub: user.email.toLowerCase(),
        tid: this.id,
        oid: user.oid,
        email: user.email,
        preferred_username: user.email,
        name: user.name,
      }),
    };
  }

  user(email) {
    return this.users.get(email.toLowerCase());
  }

  /** Routes one request whose path starts with `/<tenant>`; `rest` is the part after it. */
  async handle(req, res, rest, search) {
    if (rest === '/v2.0/.well-known/openid-configuration') {
      // oidc-provider serves discovery at <mount>/.well-known/…; Entra at <issuer>/.well-known/….
      return this.forward(req, res, `/${this.id}`, `/.well-known/openid-configuration${search}`);
    }
    if (rest === '/v2.0/adminconsent') {
      return this.adminConsent(req, res, search);
    }
    if (rest === '/oauth2/v2.0/authorize') {
      // Entra understands prompt=select_account (its account picker); oidc-provider
      // refuses prompt values it has no interaction for. A fresh sign-in stands in for
      // picking an account.
      const params = new URLSearchParams(search);
      if (params.get('prompt') === 'select_account') {
        params.set('prompt', 'login');
        search = `?${params}`;
      }
    }
    if (req.method === 'POST' && rest === '/oauth2/v2.0/token') {
      const raw = await readBody(req);
      const form = querystring.parse(raw);
      if (form.grant_type === 'client_credentials' && this.apps.has(form.client_id) && !this.consented.has(form.client_id)) {
        return entraError(res, 400, 'unauthorized_client', 700016,
          `Application with identifier '${form.client_id}' was not found in the directory '${this.name}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.`);
      }
      req.body = raw;
    }
    if (req.method === 'POST' && /^\/interaction\/[^/]+$/.test(rest)) {
      const raw = await readBody(req);
      const form = querystring.parse(raw);
      if (form.prompt === 'login') {
        const user = this.user(String(form.login || ''));
        if (!user || user.password !== form.password) {
          // Entra's "Your account or password is incorrect": the form again.
          res.writeHead(303, { location: `/${this.id}${rest}` });
          return res.end();
        }
      }
      req.body = raw;
    }
    return this.forward(req, res, `/${this.id}`, `${rest}${search}`);
  }

  /** Hands a request to the provider as if it were mounted at `mount`. */
  forward(req, res, mount, path) {
    // oidc-provider derives its mount path from originalUrl minus url (as under Express).
    req.originalUrl = `${mount}${path}`;
    req.url = path;
    return this.callback(req, res);
  }

  /**
   * Entra's admin-consent endpoint: a page asking the tenant's admin to accept, then a
   * redirect with admin_consent=True, tenant, scope and state (or error and
   * error_description, still with admin_consent=True, as Entra does).
   */
  async adminConsent(req, res, search) {
    const params = new URLSearchParams(search);
    const app = this.apps.get(params.get('client_id') || '');
    const redirect = params.get('redirect_uri') || '';
    if (!app || !app.redirectUris.includes(redirect)) {
      res.writeHead(400, { 'content-type': 'text/html; charset=utf-8' });
      return res.end('<!doctype html><title>Sign in</title><h1>Sorry, but we’re having trouble signing you in.</h1><p>AADSTS50011: The redirect URI specified in the request does not match the redirect URIs configured for the application.</p>');
    }
    if (req.method === 'POST') {
      const form = querystring.parse(await readBody(req));
      const answer = new URL(redirect);
      answer.searchParams.set('admin_consent', 'True');
      if (form.decision === 'accept') {
        this.consented.add(app.clientId);
        answer.searchParams.set('tenant', this.id);
        answer.searchParams.set('scope', params.get('scope') || '');
      } else {
        answer.searchParams.set('error', 'access_denied');
        answer.searchParams.set('error_description', 'AADSTS65004: User declined to consent to access the app.');
      }
      if (params.has('state')) answer.searchParams.set('state', params.get('state'));
      res.writeHead(302, { location: answer.href });
      return res.end();
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    return res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Permissions requested</title></head>
<body><main><h1>Permissions requested</h1>
<p><strong>${escapeHtml(app.name)}</strong> wants these permissions for everyone in <strong>${escapeHtml(this.name)}</strong>:</p>
<ul>${(params.get('scope') || '').split(' ').map((s) => `<li>${escapeHtml(s)}</li>`).join('')}</ul>
<form method="post"><button name="decision" value="accept">Accept</button> <button name="decision" value="cancel">Cancel</button></form>
</main></body></html>`);
  }
}

/**
 * Starts the look-alike on 127.0.0.1 (random port).
 * @param {{tenants: Array<{id, name, users}>, apps: Array<{clientId, secret, name, home: string, redirectUris: string[]}>}} spec
 *   `home` is the tenant id the app is registered in.
 */
export async function startEntra(spec) {
  const server = http.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${server.address().port}`;
  const apps = new Map(spec.apps.map((a) => [a.clientId, a]));
  const tenants = new Map(spec.tenants.map((t) => [t.id, new Tenant(base, t, apps)]));
  for (const app of spec.apps) tenants.get(app.home).consented.add(app.clientId);
  const requests = [];
  server.on('request', (req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const url = new URL(req.url, base);
    const match = GUID.exec(url.pathname);
    const tenant = match && tenants.get(match[1]);
    if (!tenant) {
      return entraError(res, 400, 'invalid_tenant', 90002, `Tenant '${url.pathname.split('/')[1]}' not found.`);
    }
    tenant.handle(req, res, match[2] || '/', url.search).catch((err) => {
      console.error('entra look-alike:', err);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  return {
    base,
    requests,
    tenant: (id) => tenants.get(id),
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }),
  };
}
