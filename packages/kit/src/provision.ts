import { createHash } from 'node:crypto';
import pg from 'pg';

export interface ServiceDatabase {
  /** Login role that owns the schema and can touch nothing else. */
  role: string;
  password: string;
  schema: string;
}

const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;
function ident(name: string): string {
  if (!IDENT.test(name)) throw new Error(`unsafe identifier ${JSON.stringify(name)}`);
  return name;
}
function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * The login role of one service in one database: `<database>_<service>` (`ecommerce_order` for the platform's default
 * database). Roles are cluster-wide, so stacks sharing one server (a `npm start` and `npm test`, two checkouts) each
 * get their own and never reset each other's passwords. A name over PostgreSQL's 63 bytes keeps a hash of the database.
 */
export function databaseRole(database: string, service: string): string {
  const name = `${ident(database)}_${service}`;
  if (name.length <= 63) return ident(name);
  const hash = createHash('sha256').update(database).digest('hex').slice(0, 8);
  return ident(`${database.slice(0, 63 - service.length - hash.length - 2)}_${hash}_${service}`);
}

/** The URL a service uses: the admin URL with the service's role, password and database. */
export function serviceUrl(adminUrl: string, database: string, svc: ServiceDatabase): string {
  const u = new URL(adminUrl);
  u.username = svc.role;
  u.password = svc.password;
  u.pathname = `/${database}`;
  return u.toString();
}

/**
 * Creates (idempotently) the database, one login role per service and one schema owned by it.
 * Used by `npm start`, the tests and the container run; Kubernetes does the same in an init SQL script.
 */
export async function provisionDatabase(adminUrl: string, database: string, services: ServiceDatabase[]): Promise<void> {
  // A new role is created unable to log in and gets its login and password last: a service starting beside this
  // (npm start, the tests) migrates at its first login, and a login that worked before its schema was handed
  // over met "permission denied for database" and exited. The two phases run on two connections (the roles on
  // the admin database, the rights in the new one), so one transaction cannot cover them.
  await asAdmin(adminUrl, async (admin) => {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) await ignoreDuplicate(admin.query(`CREATE DATABASE ${ident(database)}`));
    for (const svc of services) {
      const role = await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [svc.role]);
      if (role.rowCount === 0) await ignoreDuplicate(admin.query(`CREATE ROLE ${ident(svc.role)} NOLOGIN`));
    }
  });
  const u = new URL(adminUrl);
  u.pathname = `/${database}`;
  const db = new pg.Client({ connectionString: u.toString() });
  await db.connect();
  try {
    await db.query(`REVOKE ALL ON DATABASE ${ident(database)} FROM PUBLIC`);
    await db.query('REVOKE ALL ON SCHEMA public FROM PUBLIC');
    for (const svc of services) {
      await db.query(`GRANT CONNECT, TEMPORARY ON DATABASE ${ident(database)} TO ${ident(svc.role)}`);
      await handOverSchema(db, svc);
      await ignoreDuplicate(db.query(`CREATE SCHEMA IF NOT EXISTS ${ident(svc.schema)} AUTHORIZATION ${ident(svc.role)}`));
      await db.query(`ALTER SCHEMA ${ident(svc.schema)} OWNER TO ${ident(svc.role)}`);
    }
    // Per-query statistics for postgres_exporter, where the server preloads the library.
    await db.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements').catch(() => undefined);
  } finally {
    await db.end();
  }
  await asAdmin(adminUrl, async (admin) => {
    for (const svc of services) await admin.query(`ALTER ROLE ${ident(svc.role)} WITH LOGIN PASSWORD ${literal(svc.password)}`);
  });
}

/** Runs fn on an admin connection holding the provisioning lock: roles are cluster-wide, and concurrent ALTER ROLE on one role fails ("tuple concurrently updated"). */
async function asAdmin(adminUrl: string, fn: (admin: pg.Client) => Promise<void>): Promise<void> {
  const admin = await connectAdmin(adminUrl);
  try {
    await admin.query("SELECT pg_advisory_lock(hashtext('ecommerce:provision'))");
    await fn(admin);
  } finally {
    await admin.end(); // also releases the advisory lock
  }
}

/**
 * A schema owned by another login role (an older install named its roles `ecommerce_<service>` on every database)
 * moves to this one with everything in it: the service logs in as the new role and finds its tables its own.
 * Superusers' objects are never reassigned (REASSIGN OWNED would take all of theirs, not only the schema's).
 */
async function handOverSchema(db: pg.Client, svc: ServiceDatabase): Promise<void> {
  const owner = await db.query<{ owner: string; super: boolean }>(
    'SELECT r.rolname AS owner, r.rolsuper AS super FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner WHERE n.nspname = $1',
    [svc.schema],
  );
  const previous = owner.rows[0];
  if (!previous || previous.owner === svc.role || previous.super || !IDENT.test(previous.owner)) return;
  await db.query(`REASSIGN OWNED BY ${ident(previous.owner)} TO ${ident(svc.role)}`);
}

/**
 * Drops a database and the login roles provisioned for it (the grantees of its CONNECT named `<database>_...`,
 * see databaseRole); a role still owning something elsewhere is kept.
 */
export async function dropDatabase(adminUrl: string, database: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const grantees = await admin.query<{ role: string }>(
      `SELECT DISTINCT r.rolname AS role FROM pg_database d, aclexplode(d.datacl) a JOIN pg_roles r ON r.oid = a.grantee
        WHERE d.datname = $1 AND NOT r.rolsuper AND starts_with(r.rolname, $1 || '_')`,
      [database],
    );
    await admin.query(`DROP DATABASE IF EXISTS ${ident(database)} WITH (FORCE)`);
    for (const { role } of grantees.rows) {
      await admin.query(`DROP ROLE IF EXISTS ${ident(role)}`).catch((err: { code?: string }) => {
        // 2BP01: it owns or may use objects in another database; 55006: a session of it is still open.
        if (err.code !== '2BP01' && err.code !== '55006') throw err;
      });
    }
  } finally {
    await admin.end();
  }
}

async function ignoreDuplicate<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    // Two processes provisioning at once: the loser sees duplicate_object / unique_violation / duplicate_database.
    const code = (err as { code?: string }).code;
    if (code === '42710' || code === '23505' || code === '42P04' || code === '42P06') return undefined;
    throw err;
  }
}

/**
 * The admin connection. A URL naming the database to provision before it exists (`DATABASE_URL=.../shop` on a new
 * server) was refused with "database shop does not exist" (3D000): the server's maintenance database is used instead.
 */
async function connectAdmin(adminUrl: string): Promise<pg.Client> {
  const admin = new pg.Client({ connectionString: adminUrl });
  try {
    await admin.connect();
    return admin;
  } catch (err) {
    await admin.end().catch(() => undefined);
    const u = new URL(adminUrl);
    if ((err as { code?: string }).code !== '3D000' || u.pathname === '/postgres') throw err;
    u.pathname = '/postgres';
    const maintenance = new pg.Client({ connectionString: u.toString() });
    await maintenance.connect();
    return maintenance;
  }
}
