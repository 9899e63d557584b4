/**
 * Drift check: applies every committed migration to an empty scratch database and verifies that
 * the result is exactly what prisma/schema.prisma describes. `npm run`-free usage:
 *
 *   npx tsx scripts/check-schema.ts        (DATABASE_URL's server, else an embedded PostgreSQL)
 *
 * How: the expected side is Prisma's own reading of the schema (the DMMF from
 * @prisma/prisma-schema-wasm, the same engine build as our Prisma CLI and client), turned into
 * the tables, columns, enums, indexes and foreign keys Prisma's migration engine would create
 * (its type mapping and its constraint naming rules). The actual side is read from pg_catalog.
 * Both become "object → description" maps, and the difference is printed object by object.
 *
 * Not compared (Prisma does not manage them, or the DMMF does not carry them): column order,
 * check constraints, views, triggers, functions, `Unsupported(...)` fields (their columns show up
 * as unexpected), index NULLS ordering.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import prismaSchemaWasm from '@prisma/prisma-schema-wasm';
import pg from 'pg';
import { applyMigrations, defaultMigrationsDir } from '../server/db/migrate.ts';
import { createScratchDatabase } from '../server/db/scratch-database.ts';

export const defaultSchemaPath = fileURLToPath(new URL('../prisma/schema.prisma', import.meta.url));

/** One database object, keyed by what it is and where it lives, described as Prisma would create it. */
interface SchemaObject {
  table?: string;
  description: string;
}
export type SchemaSnapshot = Map<string, SchemaObject>;

export class SchemaCheckError extends Error {
  override name = 'SchemaCheckError';
}

// ---------------------------------------------------------------------------------------------
// Expected: from the Prisma schema

interface DmmfField {
  name: string;
  dbName?: string | null;
  kind: 'scalar' | 'object' | 'enum' | 'unsupported';
  isList: boolean;
  isRequired: boolean;
  type: string;
  nativeType?: [string, string[]] | null;
  default?: unknown;
  isUpdatedAt?: boolean;
  relationName?: string;
  relationFromFields?: string[];
  relationToFields?: string[];
  relationOnDelete?: string;
  relationOnUpdate?: string;
}
interface DmmfModel {
  name: string;
  dbName: string | null;
  schema?: string | null;
  fields: DmmfField[];
}
interface DmmfEnum {
  name: string;
  dbName?: string | null;
  values: { name: string; dbName: string | null }[];
}
interface DmmfIndex {
  model: string;
  type: 'id' | 'unique' | 'normal' | 'fulltext';
  dbName?: string | null;
  algorithm?: string;
  fields: { name: string; sortOrder?: 'asc' | 'desc'; operatorClass?: string; length?: number }[];
}
interface Datamodel {
  models: DmmfModel[];
  enums: DmmfEnum[];
  indexes: DmmfIndex[];
}

// PostgreSQL's identifier limit; Prisma trims generated constraint names to it.
const MAX_IDENTIFIER = 63;

/** Prisma's default constraint/index name: `<table>_<columns>_<suffix>`, trimmed to 63 characters. */
export function prismaConstraintName(table: string, columns: string[], suffix: 'pkey' | 'key' | 'idx' | 'fkey'): string {
  const base = suffix === 'pkey' ? table : `${table}_${columns.join('_')}`;
  const tail = `_${suffix}`;
  return (base.length > MAX_IDENTIFIER - tail.length ? base.slice(0, MAX_IDENTIFIER - tail.length) : base) + tail;
}

const scalarTypes: Record<string, string> = {
  String: 'text',
  Boolean: 'boolean',
  Int: 'integer',
  BigInt: 'bigint',
  Float: 'double precision',
  Decimal: 'numeric(65,30)',
  DateTime: 'timestamp(3) without time zone',
  Json: 'jsonb',
  Bytes: 'bytea',
};

// Prisma's @db.* attributes for PostgreSQL → format_type() spelling.
function nativeTypeSql(name: string, args: string[]): string {
  const a = args.length ? `(${args.join(',')})` : '';
  const simple: Record<string, string> = {
    Text: 'text', Uuid: 'uuid', Xml: 'xml', Inet: 'inet', Citext: 'citext', Boolean: 'boolean',
    Integer: 'integer', SmallInt: 'smallint', Oid: 'oid', BigInt: 'bigint', DoublePrecision: 'double precision',
    Real: 'real', Money: 'money', Date: 'date', Json: 'json', JsonB: 'jsonb', ByteA: 'bytea',
  };
  if (simple[name]) return simple[name];
  switch (name) {
    case 'Char': return `character${a || '(1)'}`;
    case 'VarChar': return `character varying${a}`;
    case 'Bit': return `bit${a || '(1)'}`;
    case 'VarBit': return `bit varying${a}`;
    case 'Decimal': return `numeric${a}`;
    case 'Timestamp': return `timestamp${a} without time zone`;
    case 'Timestamptz': return `timestamp${a} with time zone`;
    case 'Time': return `time${a} without time zone`;
    case 'Timetz': return `time${a} with time zone`;
  }
  throw new SchemaCheckError(`check-schema does not know the native type @db.${name}; teach nativeTypeSql() about it.`);
}

/** Canonical spelling of a literal default, shared by both sides so that '0'::double precision equals 0. */
function literal(value: string): string {
  if (/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(value)) return Math.abs(Number(value)) < 2 ** 53 ? String(Number(value)) : value;
  if (value === 'true' || value === 'false') return value;
  return JSON.stringify(value);
}

function normaliseExpression(expression: string): string {
  return expression.replace(/\s+/g, ' ').trim().toLowerCase();
}

function expectedDefault(field: DmmfField, enums: Map<string, DmmfEnum>): string | null {
  const value = field.default;
  if (value === undefined || value === null) return null;
  if (Array.isArray(value)) return `[${value.map((v) => enumOrLiteral(field, enums, v)).join(', ')}]`;
  if (typeof value === 'object') {
    const fn = value as { name: string; args: unknown[] };
    switch (fn.name) {
      case 'autoincrement': return 'autoincrement()';
      case 'now': return 'now()';
      case 'dbgenerated': return fn.args.length ? `dbgenerated(${normaliseExpression(String(fn.args[0]))})` : 'dbgenerated()';
      // Generated by Prisma Client, not by the database.
      case 'uuid': case 'cuid': case 'nanoid': case 'ulid': return null;
    }
    throw new SchemaCheckError(`check-schema does not know the default ${fn.name}() on ${field.name}.`);
  }
  return enumOrLiteral(field, enums, value);
}

function enumOrLiteral(field: DmmfField, enums: Map<string, DmmfEnum>, value: unknown): string {
  if (field.kind === 'enum') {
    const variant = enums.get(field.type)?.values.find((v) => v.name === value);
    return literal(variant?.dbName ?? String(value));
  }
  return literal(String(value));
}

// The DMMF does not carry a foreign key's `map:`; read it from the relation field's line.
function relationMapName(schemaText: string, model: string, field: string): string | undefined {
  const block = new RegExp(`^model\\s+${model}\\s*\\{([\\s\\S]*?)^\\}`, 'm').exec(schemaText)?.[1] ?? '';
  const line = new RegExp(`^\\s*${field}\\s+\\w+\\??\\s.*@relation\\((.*)\\)`, 'm').exec(block)?.[1] ?? '';
  return /\bmap:\s*"([^"]+)"/.exec(line)?.[1];
}

function describeColumns(columns: { name: string; desc?: boolean; opclass?: string }[]): string {
  return columns.map((c) => `"${c.name}"${c.desc ? ' DESC' : ''}${c.opclass ? ` ${c.opclass}` : ''}`).join(', ');
}

export function readDatamodel(schemaText: string, schemaPath = 'schema.prisma'): Datamodel {
  try {
    const dmmf = JSON.parse(prismaSchemaWasm.get_dmmf(JSON.stringify({ prismaSchema: [[schemaPath, schemaText]] })));
    return dmmf.datamodel as Datamodel;
  } catch (error) {
    // The engine reports a JSON object with a coloured message.
    const raw = error instanceof Error ? error.message : String(error);
    let message = raw;
    try {
      message = (JSON.parse(raw) as { message?: string }).message ?? raw;
    } catch {
      // not JSON: keep as is
    }
    // eslint-disable-next-line no-control-regex
    throw new SchemaCheckError(`The Prisma schema does not validate:\n${message.replace(/\u001b\[[0-9;]*m/g, '')}`);
  }
}

/** What applying Prisma's migrations for this schema to an empty PostgreSQL schema would create. */
export function expectedSnapshot(schemaText: string, schemaPath?: string): SchemaSnapshot {
  const dm = readDatamodel(schemaText, schemaPath);
  const snapshot: SchemaSnapshot = new Map();
  const enums = new Map(dm.enums.map((e) => [e.name, e]));
  const models = new Map(dm.models.map((m) => [m.name, m]));
  const tableOf = (m: DmmfModel) => m.dbName ?? m.name;
  const columnOf = (m: DmmfModel, fieldName: string) => {
    const field = m.fields.find((f) => f.name === fieldName);
    if (!field) throw new SchemaCheckError(`Field ${m.name}.${fieldName} not found in the DMMF.`);
    return field.dbName ?? field.name;
  };

  for (const e of dm.enums) {
    snapshot.set(`enum "${e.dbName ?? e.name}"`, {
      description: `(${e.values.map((v) => `'${v.dbName ?? v.name}'`).join(', ')})`,
    });
  }

  for (const model of dm.models) {
    if (model.schema) throw new SchemaCheckError(`check-schema does not support multi-schema models (${model.name}).`);
    const table = tableOf(model);
    snapshot.set(`table "${table}"`, { table, description: 'exists' });
    for (const field of model.fields) {
      if (field.kind === 'object') {
        const from = field.relationFromFields ?? [];
        if (from.length === 0) {
          const target = models.get(field.type);
          const back = target?.fields.find((f) => f.relationName === field.relationName && f !== field);
          if (field.isList && back?.isList) {
            throw new SchemaCheckError(`check-schema does not support implicit many-to-many relations (${model.name}.${field.name}).`);
          }
          continue;
        }
        const target = models.get(field.type)!;
        const columns = from.map((f) => columnOf(model, f));
        const optional = from.some((f) => !model.fields.find((x) => x.name === f)?.isRequired);
        const onDelete = field.relationOnDelete ?? (optional ? 'SetNull' : 'Restrict');
        const onUpdate = field.relationOnUpdate ?? 'Cascade';
        const name = relationMapName(schemaText, model.name, field.name) ?? prismaConstraintName(table, columns, 'fkey');
        snapshot.set(`foreign key "${name}"`, {
          table,
          description:
            `"${table}"(${describeColumns(columns.map((name) => ({ name })))}) REFERENCES "${tableOf(target)}"` +
            `(${describeColumns((field.relationToFields ?? []).map((f) => ({ name: columnOf(target, f) })))})` +
            ` ON DELETE ${referentialAction(onDelete)} ON UPDATE ${referentialAction(onUpdate)}`,
        });
        continue;
      }
      if (field.kind === 'unsupported') continue;
      let type: string;
      if (field.kind === 'enum') {
        const e = enums.get(field.type)!;
        type = `enum "${e.dbName ?? e.name}"`;
      } else if (field.nativeType) {
        type = nativeTypeSql(field.nativeType[0], field.nativeType[1]);
      } else {
        const scalar = scalarTypes[field.type];
        if (!scalar) throw new SchemaCheckError(`check-schema does not know the type ${field.type} (${model.name}.${field.name}).`);
        type = scalar;
      }
      if (field.isList) type += '[]';
      snapshot.set(`column "${table}"."${field.dbName ?? field.name}"`, {
        table,
        description: describeColumn(type, field.isRequired && !field.isList, expectedDefault(field, enums)),
      });
    }
  }

  for (const index of dm.indexes) {
    const model = models.get(index.model)!;
    const table = tableOf(model);
    if (index.type === 'fulltext') throw new SchemaCheckError(`Full-text indexes do not exist on PostgreSQL (${model.name}).`);
    const columns = index.fields.map((f) => ({
      name: columnOf(model, f.name),
      desc: f.sortOrder === 'desc',
      opclass: f.operatorClass ? operatorClassSql(f.operatorClass) : undefined,
    }));
    const suffix = index.type === 'id' ? 'pkey' : index.type === 'unique' ? 'key' : 'idx';
    const name = index.dbName ?? prismaConstraintName(table, columns.map((c) => c.name), suffix);
    if (index.type === 'id') {
      snapshot.set(`primary key of "${table}"`, { table, description: `"${name}" (${describeColumns(columns)})` });
    } else {
      const method = (index.algorithm ?? 'BTree').toLowerCase();
      snapshot.set(`index "${name}"`, {
        table,
        description: `${index.type === 'unique' ? 'UNIQUE ' : ''}ON "${table}" (${describeColumns(columns)})${method === 'btree' ? '' : ` USING ${method}`}`,
      });
    }
  }
  return snapshot;
}

function referentialAction(action: string): string {
  const actions: Record<string, string> = {
    Cascade: 'CASCADE', Restrict: 'RESTRICT', NoAction: 'NO ACTION', SetNull: 'SET NULL', SetDefault: 'SET DEFAULT',
  };
  return actions[action] ?? action;
}

// `JsonbPathOps` → `jsonb_path_ops`; raw("text_pattern_ops") arrives as is.
function operatorClassSql(name: string): string {
  return /^[A-Z]/.test(name) ? name.replace(/(?<!^)([A-Z])/g, '_$1').toLowerCase() : name;
}

function describeColumn(type: string, notNull: boolean, defaultValue: string | null): string {
  return `${type}${notNull ? ' NOT NULL' : ''}${defaultValue === null ? '' : ` DEFAULT ${defaultValue}`}`;
}

// ---------------------------------------------------------------------------------------------
// Actual: from the database catalog

function stripCasts(expression: string): string {
  let e = expression.trim();
  for (;;) {
    const next = e
      .replace(/::(?:"[^"]+"|[a-z_][a-z0-9_ ]*(?:\(\d+(?:,\s*\d+)?\))?(?: with(?:out)? time zone)?)(?:\[\])*$/i, '')
      .replace(/^\((.*)\)$/s, '$1')
      .trim();
    if (next === e) return e;
    e = next;
  }
}

function unquote(value: string): string {
  return /^'.*'$/s.test(value) ? value.slice(1, -1).replace(/''/g, "'") : value;
}

function splitTopLevel(list: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let current = '';
  for (const ch of list) {
    if (ch === "'") quoted = !quoted;
    if (!quoted && (ch === '(' || ch === '[')) depth++;
    if (!quoted && (ch === ')' || ch === ']')) depth--;
    if (!quoted && depth === 0 && ch === ',') {
      parts.push(current.trim());
      current = '';
    } else {
      current += ch;
    }
  }
  if (current.trim()) parts.push(current.trim());
  return parts;
}

/** pg_get_expr() output → the canonical spelling used by expectedDefault(). */
export function canonicalDatabaseDefault(expression: string | null): string | null {
  if (expression === null) return null;
  if (/^nextval\(/i.test(expression)) return 'autoincrement()';
  const bare = stripCasts(expression);
  if (/^(CURRENT_TIMESTAMP|now\(\))$/i.test(bare)) return 'now()';
  const array = /^ARRAY\[(.*)\]$/s.exec(bare);
  if (array) return `[${splitTopLevel(array[1]!).map((e) => literal(unquote(stripCasts(e)))).join(', ')}]`;
  if (/^'\{.*\}'$/s.test(bare) && /\[\]$/.test(expression.trim())) {
    const items = unquote(bare).slice(1, -1);
    return `[${items ? items.split(',').map((e) => literal(e.replace(/^"(.*)"$/, '$1'))).join(', ') : ''}]`;
  }
  if (/^'.*'$/s.test(bare) || /^-?[\d.]+(e[-+]?\d+)?$/i.test(bare) || /^(true|false)$/.test(bare)) {
    return literal(unquote(bare));
  }
  return `dbgenerated(${normaliseExpression(expression)})`;
}

interface ColumnRow { table: string; column: string; type: string; not_null: boolean; default: string | null; identity: string }
interface IndexRow {
  name: string; table: string; unique: boolean; primary: boolean; method: string; partial: boolean; include: boolean;
  columns: { column: string | null; desc: boolean; opclass: string; opdefault: boolean }[];
}
interface ForeignKeyRow { name: string; table: string; ref_table: string; columns: string[]; ref_columns: string[]; on_delete: string; on_update: string }

const actionCodes: Record<string, string> = { a: 'NO ACTION', r: 'RESTRICT', c: 'CASCADE', n: 'SET NULL', d: 'SET DEFAULT' };

/** The tables, columns, enums, indexes and foreign keys of the connection's current schema. */
export async function databaseSnapshot(databaseUrl: string): Promise<SchemaSnapshot> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const snapshot: SchemaSnapshot = new Map();
    const ignoredTables = new Set(['_prisma_migrations']);

    const enums = await client.query<{ name: string; values: string[] }>(`
      SELECT t.typname AS name, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS values
        FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
       WHERE n.nspname = current_schema() GROUP BY t.typname`);
    for (const e of enums.rows) {
      snapshot.set(`enum "${e.name}"`, { description: `(${e.values.map((v) => `'${v}'`).join(', ')})` });
    }

    const tables = await client.query<{ table: string }>(`
      SELECT c.relname AS table FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')`);
    for (const { table } of tables.rows) {
      if (!ignoredTables.has(table)) snapshot.set(`table "${table}"`, { table, description: 'exists' });
    }

    const columns = await client.query<ColumnRow>(`
      SELECT c.relname AS table, a.attname AS column, a.attnotnull AS not_null, a.attidentity AS identity,
             pg_get_expr(d.adbin, d.adrelid) AS default,
             CASE WHEN t.typtype = 'e' THEN 'enum "' || t.typname || '"'
                  WHEN et.typtype = 'e' THEN 'enum "' || et.typname || '"[]'
                  ELSE format_type(a.atttypid, a.atttypmod) END AS type
        FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_type t ON t.oid = a.atttypid
        LEFT JOIN pg_type et ON et.oid = t.typelem AND t.typcategory = 'A'
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
       WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped`);
    for (const col of columns.rows) {
      if (ignoredTables.has(col.table)) continue;
      const defaultValue = col.identity ? `identity (${col.identity === 'a' ? 'always' : 'by default'})` : canonicalDatabaseDefault(col.default);
      snapshot.set(`column "${col.table}"."${col.column}"`, {
        table: col.table,
        description: describeColumn(col.type, col.not_null, defaultValue),
      });
    }

    const indexes = await client.query<IndexRow>(`
      SELECT ic.relname AS name, tc.relname AS table, i.indisunique AS unique, i.indisprimary AS primary,
             am.amname AS method, i.indpred IS NOT NULL AS partial, i.indnatts > i.indnkeyatts AS include,
             (SELECT json_agg(json_build_object('column', a.attname, 'desc', (i.indoption[k] & 1) = 1,
                                                'opclass', oc.opcname, 'opdefault', oc.opcdefault) ORDER BY k)
                FROM generate_series(0, i.indnkeyatts - 1) AS k
                LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[k]
                LEFT JOIN pg_opclass oc ON oc.oid = i.indclass[k]) AS columns
        FROM pg_index i
        JOIN pg_class ic ON ic.oid = i.indexrelid
        JOIN pg_class tc ON tc.oid = i.indrelid
        JOIN pg_namespace n ON n.oid = tc.relnamespace
        JOIN pg_am am ON am.oid = ic.relam
       WHERE n.nspname = current_schema()`);
    for (const index of indexes.rows) {
      if (ignoredTables.has(index.table)) continue;
      const cols = describeColumns(
        index.columns.map((c) => ({ name: c.column ?? '(expression)', desc: c.desc, opclass: c.opdefault ? undefined : c.opclass })),
      );
      if (index.primary) {
        snapshot.set(`primary key of "${index.table}"`, { table: index.table, description: `"${index.name}" (${cols})` });
        continue;
      }
      const extras = `${index.method === 'btree' ? '' : ` USING ${index.method}`}${index.partial ? ' WHERE …' : ''}${index.include ? ' INCLUDE …' : ''}`;
      snapshot.set(`index "${index.name}"`, {
        table: index.table,
        description: `${index.unique ? 'UNIQUE ' : ''}ON "${index.table}" (${cols})${extras}`,
      });
    }

    const foreignKeys = await client.query<ForeignKeyRow>(`
      SELECT con.conname AS name, tc.relname AS table, rc.relname AS ref_table,
             con.confdeltype AS on_delete, con.confupdtype AS on_update,
             array(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
                     JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.ord) AS columns,
             array(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
                     JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.ord) AS ref_columns
        FROM pg_constraint con
        JOIN pg_class tc ON tc.oid = con.conrelid
        JOIN pg_class rc ON rc.oid = con.confrelid
        JOIN pg_namespace n ON n.oid = tc.relnamespace
       WHERE con.contype = 'f' AND n.nspname = current_schema()`);
    for (const fk of foreignKeys.rows) {
      if (ignoredTables.has(fk.table)) continue;
      snapshot.set(`foreign key "${fk.name}"`, {
        table: fk.table,
        description:
          `"${fk.table}"(${describeColumns(fk.columns.map((name) => ({ name })))}) REFERENCES "${fk.ref_table}"` +
          `(${describeColumns(fk.ref_columns.map((name) => ({ name })))})` +
          ` ON DELETE ${actionCodes[fk.on_delete]} ON UPDATE ${actionCodes[fk.on_update]}`,
      });
    }
    return snapshot;
  } finally {
    await client.end();
  }
}

// ---------------------------------------------------------------------------------------------
// Comparison

/** Readable differences, one line per object; empty when the two agree. */
export function diffSnapshots(expected: SchemaSnapshot, actual: SchemaSnapshot): string[] {
  const lines: string[] = [];
  const tableMissing = new Set<string>();
  const tableUnexpected = new Set<string>();
  for (const [key, object] of expected) if (key.startsWith('table ') && !actual.has(key)) tableMissing.add(object.table!);
  for (const [key, object] of actual) if (key.startsWith('table ') && !expected.has(key)) tableUnexpected.add(object.table!);

  const keys = [...new Set([...expected.keys(), ...actual.keys()])].sort();
  for (const key of keys) {
    const want = expected.get(key);
    const have = actual.get(key);
    if (want && !have) {
      if (!key.startsWith('table ') && want.table && tableMissing.has(want.table)) continue;
      lines.push(`+ ${key}: ${want.description}  (in schema.prisma, no migration creates it)`);
    } else if (have && !want) {
      if (!key.startsWith('table ') && have.table && tableUnexpected.has(have.table)) continue;
      lines.push(`- ${key}: ${have.description}  (created by the migrations, not in schema.prisma)`);
    } else if (want && have && want.description !== have.description) {
      lines.push(`~ ${key}: schema.prisma wants ${want.description}; the migrations create ${have.description}`);
    }
  }
  return lines;
}

export interface SchemaCheckResult {
  migrations: string[];
  differences: string[];
}

export interface SchemaCheckOptions {
  /** Any database URL on the PostgreSQL server to use; a scratch database is created there and dropped. */
  serverUrl: string;
  schemaPath?: string;
  /** Overrides the file at schemaPath (tests). */
  schemaText?: string;
  migrationsDir?: string;
  /** Runs against the scratch database after the migrations, before the comparison (tests). */
  afterMigrate?: (databaseUrl: string) => Promise<void>;
}

/** Applies all migrations to an empty scratch database and compares the result with the schema. */
export async function checkSchema(options: SchemaCheckOptions): Promise<SchemaCheckResult> {
  const schemaPath = options.schemaPath ?? defaultSchemaPath;
  const schemaText = options.schemaText ?? (await readFile(schemaPath, 'utf8'));
  const expected = expectedSnapshot(schemaText, schemaPath);
  const scratch = await createScratchDatabase(options.serverUrl, 'switchyard_schema_check');
  try {
    const migrations = await applyMigrations(scratch.url, options.migrationsDir ?? defaultMigrationsDir);
    await options.afterMigrate?.(scratch.url);
    return { migrations, differences: diffSnapshots(expected, await databaseSnapshot(scratch.url)) };
  } finally {
    await scratch.drop();
  }
}

export function formatDrift(result: SchemaCheckResult): string {
  return [
    `Schema drift: applying ${result.migrations.length} migration(s) to an empty database does not give prisma/schema.prisma.`,
    '  + only in schema.prisma   - only in the migrations   ~ different',
    ...result.differences.map((line) => `  ${line}`),
    'Add a migration (prisma/migrations/<timestamp>_<name>/migration.sql) for the schema change, or fix the schema.',
  ].join('\n');
}

async function main(): Promise<void> {
  const { loadStackEnv, loadOrExit } = await import('../server/env.ts');
  const env = loadOrExit(() => loadStackEnv());
  const started = performance.now();
  let stop = async () => {};
  let serverUrl = env.DATABASE_URL;
  if (!serverUrl) {
    const { startPostgres } = await import('./lib/postgres.ts');
    const { freePort } = await import('./lib/ports.ts');
    const dataDir = fileURLToPath(new URL('../.data/schema-check-postgres', import.meta.url));
    const postgres = await startPostgres({ dataDir, port: await freePort(), ephemeral: true, name: 'schema-check-db' });
    serverUrl = postgres.adminUrl;
    stop = postgres.stop;
  }
  try {
    const result = await checkSchema({ serverUrl });
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    if (result.differences.length) {
      console.error(formatDrift(result));
      process.exitCode = 1;
    } else {
      console.log(`Schema OK: ${result.migrations.length} migration(s) produce exactly prisma/schema.prisma (${seconds} s).`);
    }
  } finally {
    await stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error instanceof SchemaCheckError || error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
