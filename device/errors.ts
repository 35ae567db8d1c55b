/** Exit codes of the CLI contract (DESIGN.md, "Command line"). */
export const EXIT_OK = 0;
export const EXIT_RUNTIME = 1;
export const EXIT_BAD_INPUT = 2;

/**
 * Bad input from the user: a config key, an argument, a file. The message names what was wrong, and the CLI
 * exits with code 2 without touching anything already stored.
 */
export class BadInputError extends Error {
  override readonly name = 'BadInputError';
}

export function exitCodeFor(error: unknown): number {
  return error instanceof BadInputError ? EXIT_BAD_INPUT : EXIT_RUNTIME;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
