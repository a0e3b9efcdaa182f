// The people and directories of the suite: the business's own Entra tenant (staff) and
// the tenants of two customer companies, with their users and the two app
// registrations Gatehouse uses (the staff app, and the multi-tenant portal app).

import { startEntra } from './entra.js';
import { Gatehouse, freePort } from './gatehouse.js';

export const STAFF_TENANT = '5d2f0c7a-3b8e-4c1d-9a6f-0e7b1c2d3e4f';
export const TENANT_A = 'a1a1a1a1-0000-4a00-8a00-00000000000a';
export const TENANT_B = 'b2b2b2b2-0000-4b00-8b00-00000000000b';

export const STAFF_APP = { clientId: '3c9f6d2e-8a41-4b7c-9e05-6f1d2a3b4c5d', secret: 'staff-app-secret~Q8x.v2Lr', name: 'Gatehouse staff sign-in' };
export const PORTAL_APP = { clientId: '7e4a1b9c-2d3f-4e5a-8b6c-9d0e1f2a3b4c', secret: 'portal-app-secret~Z3k.p9Wt', name: 'Support portal sign-in' };

/** Gatehouse's first admin in the scenarios that start with one: a password user. */
export const OPS_ADMIN = { email: 'ops@staff.example', name: 'Olga Ops', password: 'ops passphrase for e2e' };

export const GRACE = { email: 'grace@staff.example', password: 'Grace-entra-pass-1', name: 'Grace Hopper' };
/** In the staff tenant but never invited to Gatehouse. */
export const LINUS = { email: 'linus@staff.example', password: 'Linus-entra-pass-1', name: 'Linus Lurker' };
export const ALICE = { email: 'alice@client-a.example', password: 'Alice-entra-pass-1', name: 'Alice Anders' };
export const BOB = { email: 'bob@client-b.example', password: 'Bob-entra-pass-1', name: 'Bob Berg' };

/** Starts the Entra look-alike with the three tenants, for a Gatehouse at `gatehouseBase`. */
export function startWorld(gatehouseBase) {
  return startEntra({
    tenants: [
      { id: STAFF_TENANT, name: 'Staff Example', users: [GRACE, LINUS] },
      { id: TENANT_A, name: 'Client A Ltd', users: [ALICE] },
      { id: TENANT_B, name: 'Client B GmbH', users: [BOB] },
    ],
    apps: [
      { ...STAFF_APP, home: STAFF_TENANT, redirectUris: [`${gatehouseBase}/sso/callback`] },
      { ...PORTAL_APP, home: STAFF_TENANT, redirectUris: [`${gatehouseBase}/sso/callback`, `${gatehouseBase}/sso/consent`] },
    ],
  });
}

/** gatehouse.toml lines pointing Gatehouse at the look-alike. */
export function entraConfig(entra) {
  return `[entra]\nauthority_host = '${entra.base}'\nallow_insecure_loopback = true\n`;
}

/**
 * Starts the look-alike and a serving Gatehouse pointed at it whose first admin is
 * OPS_ADMIN. `close()` stops both.
 */
export async function startGatehouseWithEntra() {
  const port = await freePort();
  const entra = await startWorld(`http://127.0.0.1:${port}`);
  const gatehouse = await Gatehouse.create(entraConfig(entra), port);
  await gatehouse.createAdmin(OPS_ADMIN.email, OPS_ADMIN.name, OPS_ADMIN.password);
  await gatehouse.serve();
  const close = async () => {
    await gatehouse.stop();
    await entra.close();
  };
  return { entra, gatehouse, close };
}
