/**
 * Reading the process environment without ever prompting: a library user
 * who did not grant a variable gets hwfe's default, not a permission
 * prompt in the middle of a run.
 *
 * @module
 */

/** Whether this process may read the environment variable `name`. */
export function mayReadEnv(name: string): boolean {
  try {
    return Deno.permissions.querySync({ name: "env", variable: name }).state === "granted";
  } catch {
    return false;
  }
}

/** The variable's value when it is set, not empty and readable; else undefined. */
export function envVar(name: string): string | undefined {
  return mayReadEnv(name) ? Deno.env.get(name) || undefined : undefined;
}
