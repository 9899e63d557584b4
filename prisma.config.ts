import { defineConfig } from 'prisma/config';

// Migrations are applied by server/db/migrate.ts (offline, no schema-engine download); the CLI
// is only used for `prisma generate`.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
});
