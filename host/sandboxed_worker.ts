/**
 * Starting a module worker with exactly the Deno permissions it is given:
 * the pool's workers and the worker inside a step's child process.
 *
 * @module
 */

/**
 * A module worker whose Deno permissions are `permissions` and nothing
 * else: no env, run, ffi, sys or remote import. "inherit" is for the
 * worker inside a child process whose own flags hold deny rules.
 */
export function sandboxedWorker(
  moduleUrl: URL,
  name: string,
  permissions: Record<"read" | "write" | "net", string[] | "inherit">,
): Worker {
  const list = (value: string[] | "inherit") => value === "inherit" || value.length ? value : false;
  return new Worker(moduleUrl, {
    type: "module",
    name,
    deno: {
      permissions: {
        read: list(permissions.read),
        write: list(permissions.write),
        net: list(permissions.net),
        env: false,
        run: false,
        ffi: false,
        sys: false,
        import: false,
      },
    },
  });
}
