// provisionDatabase / dropDatabase on a shared server: each database's roles are its own, an older install's
// schema moves to the new role with its tables, and dropping a database takes its roles with it.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { sql as one } from '@ecommerce/test-support';
import { databaseRole, dropDatabase, provisionDatabase, serviceUrl } from '../src/index.js';

const adminUrl = process.env.DATABASE_URL;
if (!adminUrl) throw new Error('DATABASE_URL (an admin connection) must be set; `npm test` sets it');

const databases: string[] = [];
const legacyRoles: string[] = [];
after(async () => {
  for (const name of databases) await dropDatabase(adminUrl, name).catch(() => undefined);
  for (const role of legacyRoles) await one(adminUrl, `DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
});

function newDatabase(prefix = 'prov'): string {
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  databases.push(name);
  return name;
}

const roleExists = async (role: string) => (await one(adminUrl, 'SELECT 1 FROM pg_roles WHERE rolname = $1', [role])).length === 1;

describe('service roles on a shared PostgreSQL', () => {
  it('names a role <database>_<service>, and within 63 bytes for a long database name, distinct per database', () => {
    assert.equal(databaseRole('ecommerce', 'order'), 'ecommerce_order');
    const long = `shop_${'x'.repeat(55)}`;
    const other = `shop_${'x'.repeat(54)}y`;
    for (const service of ['user', 'product', 'order']) {
      const role = databaseRole(long, service);
      assert.ok(role.length <= 63 && role.endsWith(`_${service}`), role);
      assert.notEqual(role, databaseRole(other, service));
    }
    assert.throws(() => databaseRole('Robert"; DROP TABLE x', 'user'), /unsafe identifier/);
  });

  it('when two databases on one server are provisioned with different passwords, then each service still logs in to its own', async () => {
    const [a, b] = [newDatabase(), newDatabase()];
    const roleA = { role: databaseRole(a, 'order'), password: 'password-of-a', schema: 'orders' };
    const roleB = { role: databaseRole(b, 'order'), password: 'password-of-b', schema: 'orders' };
    await provisionDatabase(adminUrl, a, [roleA]);
    await provisionDatabase(adminUrl, b, [roleB]);
    // Provisioning b again (a restart of the second stack) must not reset a's password.
    await provisionDatabase(adminUrl, b, [roleB]);
    assert.deepEqual(await one(serviceUrl(adminUrl, a, roleA), 'SELECT current_user AS u'), [{ u: roleA.role }]);
    assert.deepEqual(await one(serviceUrl(adminUrl, b, roleB), 'SELECT current_user AS u'), [{ u: roleB.role }]);
    // Neither role may connect to the other's database.
    await assert.rejects(one(serviceUrl(adminUrl, b, { ...roleA }), 'SELECT 1'), /permission denied|not permitted/);
  });

  it("when a database's schema is owned by an older install's role, then the new role takes it with its tables and rows", async () => {
    const name = newDatabase();
    const legacy = { role: `legacy_${randomBytes(4).toString('hex')}`, password: 'legacy-password', schema: 'orders' };
    legacyRoles.push(legacy.role);
    await provisionDatabase(adminUrl, name, [legacy]);
    const legacyUrl = serviceUrl(adminUrl, name, legacy);
    await one(legacyUrl, 'CREATE TABLE orders.placed (id int PRIMARY KEY, note text)');
    await one(legacyUrl, "INSERT INTO orders.placed VALUES (1, 'kept')");
    await one(legacyUrl, 'CREATE SEQUENCE orders.numbers');

    const current = { role: databaseRole(name, 'order'), password: 'new-password', schema: 'orders' };
    await provisionDatabase(adminUrl, name, [current]);
    const url = serviceUrl(adminUrl, name, current);
    assert.deepEqual(await one(url, 'SELECT id, note FROM orders.placed'), [{ id: 1, note: 'kept' }]);
    await one(url, "INSERT INTO orders.placed VALUES (2, 'new')");
    await one(url, 'ALTER TABLE orders.placed ADD COLUMN extra int');
    assert.deepEqual(await one(url, "SELECT nextval('orders.numbers')::int AS n"), [{ n: 1 }]);
    const owners = await one<{ owner: string }>(
      adminUrl.replace(/\/[^/?]*(\?|$)/, `/${name}$1`),
      "SELECT DISTINCT pg_get_userbyid(c.relowner) AS owner FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'orders'",
    );
    assert.deepEqual(owners, [{ owner: current.role }]);
  });

  it('when a database is dropped, then its roles go with it, and a role of another database stays', async () => {
    const [gone, kept] = [newDatabase(), newDatabase()];
    const roles = ['user', 'product', 'order'].map((s, i) => ({ role: databaseRole(gone, s), password: 'p', schema: ['users', 'catalog', 'orders'][i]! }));
    const other = { role: databaseRole(kept, 'user'), password: 'p', schema: 'users' };
    await provisionDatabase(adminUrl, gone, roles);
    await provisionDatabase(adminUrl, kept, [other]);
    for (const r of roles) assert.ok(await roleExists(r.role));
    await dropDatabase(adminUrl, gone);
    for (const r of roles) assert.equal(await roleExists(r.role), false, r.role);
    assert.ok(await roleExists(other.role));
    assert.deepEqual(await one(serviceUrl(adminUrl, kept, other), 'SELECT current_user AS u'), [{ u: other.role }]);
  });

  it('when a service tries to log in while its database is being provisioned, then the first login that works finds its schema its own', { timeout: 60_000 }, async () => {
    // A service starting beside the provisioner (npm start, the tests, a container) migrates at its first login:
    // a role that could log in before its schema was handed over got "permission denied for database" (42501)
    // and the service exited. The role may log in only once everything it needs is in place.
    for (let round = 0; round < 5; round++) {
      const name = newDatabase('race');
      const svc = { role: databaseRole(name, 'order'), password: 'race-password', schema: 'orders' };
      let done = false;
      const provisioning = provisionDatabase(adminUrl, name, [svc]).finally(() => (done = true));
      let firstLogin: { owner: string | null } | undefined;
      try {
        while (!firstLogin) {
          const client = new pg.Client({ connectionString: serviceUrl(adminUrl, name, svc) });
          client.on('error', () => undefined);
          const provisioned = done;
          try {
            await client.connect();
            const res = await client.query<{ owner: string | null }>('SELECT (SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = $1) AS owner', [svc.schema]);
            firstLogin = res.rows[0]!;
          } catch (err) {
            // Not there yet: no database, no role, or no login yet; once provisioned, it must work.
            const code = String((err as { code?: string }).code);
            assert.ok(!provisioned && ['3D000', '28P01', '28000'].includes(code), `login failed with ${code}: ${String(err)}`);
          } finally {
            await client.end().catch(() => undefined);
          }
        }
      } finally {
        await provisioning;
      }
      assert.equal(firstLogin.owner, svc.role, `round ${round}: the first login found schema ${svc.schema} owned by ${firstLogin.owner}`);
    }
  });

  it('when the admin URL names the database to provision before it exists, then it is created and its service logs in', async () => {
    // `DATABASE_URL=postgres://.../shop npm start` on a new server: the admin connection itself met "database does not exist".
    const name = newDatabase('named');
    const svc = { role: databaseRole(name, 'order'), password: 'named-password', schema: 'orders' };
    const u = new URL(adminUrl);
    u.pathname = `/${name}`;
    await provisionDatabase(u.toString(), name, [svc]);
    assert.deepEqual(await one(serviceUrl(adminUrl, name, svc), 'SELECT current_user AS u'), [{ u: svc.role }]);
  });
});
