import { dropTestDatabases } from './services.ts';

// Throwaway databases go whatever the outcome; "exit": true in .mocharc stops leaked handles hanging CI.
export async function mochaGlobalTeardown() {
  await dropTestDatabases();
}
