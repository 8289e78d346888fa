/**
 * Hosts as Deno writes them in `--allow-net` and a step's
 * `permissions.net`: `name` or `name:port`, with IPv6 in brackets. What is
 * one (a workflow's permissions and the CLI's flags are checked alike), and
 * whether a rule covers one (engine/grants.ts).
 *
 * @module
 */

/** A host as Deno writes it: `name` or `name:port`, with IPv6 in brackets. */
export const HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * Why `host` is not a host Deno takes, or undefined; `hostAlone` writes the
 * suggestion for a URL's host (a flag, a quoted string).
 */
export function hostProblem(host: string, hostAlone: (host: string) => string): string | undefined {
  if (HOST.test(host)) return undefined;
  const url = /^[a-z]+:\/\/([^/]+)/i.exec(host);
  return `'${host}' is not a host${
    url ? `; write the host alone: ${hostAlone(url[1])}` : " (name or name:port)"
  }`;
}

function splitHost(host: string): [string, string | undefined] {
  const at = host.lastIndexOf(":");
  if (at < 0 || host.endsWith("]")) return [host.toLowerCase(), undefined];
  return [host.slice(0, at).toLowerCase(), host.slice(at + 1)];
}

/** Whether the rule `rule` (`name` or `name:port`) covers `host`. */
export function hostWithin(host: string, rule: string): boolean {
  const [name, port] = splitHost(host);
  const [ruleName, rulePort] = splitHost(rule);
  return name === ruleName && (rulePort === undefined || rulePort === port);
}
