/** What the vitest global setup shares with every test file (through `provide`/`inject`). */
export interface TestInfra {
  /** Maintenance database URL on the test PostgreSQL server (CREATE/DROP DATABASE). */
  adminUrl: string;
  /** Migrated, empty database that test databases are cloned from. */
  templateDatabase: string;
  /** Prefix of every database this run creates, so teardown can drop leftovers on a shared server. */
  databasePrefix: string;
  temporalAddress: string;
  temporalNamespace: string;
  /** A directory private to this run (shared caches such as the workflow bundle). */
  runDir: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    switchyard: TestInfra;
  }
}
