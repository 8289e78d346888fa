/**
 * Finding and stopping every process a shell step started, including those
 * that left its process group (`setsid`, daemons, double forks) or dropped
 * its pipes (`>/dev/null 2>&1 </dev/null`).
 *
 * Each step's bash gets an environment variable of its own,
 * `HWFE_STEP_<random id of this hwfe process>_<n>=1`, which every process
 * it starts inherits, whatever group or session it moves to. (A name per
 * step rather than one name with a value per step: a step that runs hwfe
 * again passes its mark on to the inner run's steps, so stopping the outer
 * step stops those too.) When the step ends, the processes
 * whose environment holds it are found in `/proc/<pid>/environ` (the way
 * GitHub Actions' runner finds a job's orphans) and get SIGTERM, then
 * SIGKILL after a short grace.
 *
 * Deno reads `/proc` only with `--allow-all`, so the scan runs in a helper:
 * one bash process ("the reaper") per hwfe process, asked over a pipe.
 * That pipe also covers hwfe's own death: when hwfe is killed, even by
 * SIGKILL, the reaper reads end-of-file and stops every step process that
 * hwfe started. The reaper sits in a process group of its own, so a
 * terminal's Ctrl-C, meant for hwfe, does not stop it first.
 *
 * Where there is no `/proc` (macOS, Windows), nothing is tracked here and
 * the shell runner kills the step's process group only.
 *
 * @module
 */

/** Every step variable of this process starts with this. */
const PREFIX = `HWFE_STEP_${
  Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) => b.toString(16).padStart(2, "0"))
    .join("")
}_`;

/**
 * A step shorter than this is scanned only among processes newer than its
 * bash (pids are handed out in increasing order until they wrap, which the
 * reaper notices); a longer one among all processes.
 */
const RECENT_MS = 250;

/**
 * The reaper. Requests on stdin, one a line: `end <n> <lowest pid>` stops
 * the processes of step `n` (looking only at pids above `<lowest pid>`
 * unless it is 0, or pids have wrapped since) and answers `<n>`; `quit`
 * exits. End-of-file without `quit` means hwfe is gone: every process of
 * every step of this hwfe process is stopped. Requests that arrive
 * together are served with one scan. Naps read from a pipe that never
 * has data, so waiting starts no process.
 */
const REAPER = `
prefix=$1
trap '' INT HUP PIPE
trap 'reap 0 "$prefix"; exit 0' TERM
[[ -r /proc/self/environ ]] || exit 3
exec {nap}<> <(:)
found=()
check() {
  local entries joined mark
  { mapfile -d '' entries < "/proc/$1/environ"; } 2>/dev/null || return 0
  printf -v joined '\\n%s' "\${entries[@]}"
  for mark in "\${marks[@]}"; do
    if [[ $joined == *$'\\n'"$mark"* ]]; then found+=("$1"); return 0; fi
  done
}
scan() {
  local low=$1 last pid all
  shift
  marks=("$@")
  found=()
  all=(/proc/[0-9]*)
  if (( low > 0 )) && read -r last < /proc/sys/kernel/ns_last_pid &&
    (( last >= low && last - low < \${#all[@]} )); then
    # Newer than the step's bash: up to the last pid handed out, read
    # again at the end so that nothing forked meanwhile is missed.
    pid=$low
    while (( pid < last )); do
      for ((pid = pid + 1; pid <= last; pid++)); do (( pid != $$ )) && check "$pid"; done
      (( pid-- ))
      read -r last < /proc/sys/kernel/ns_last_pid
    done
  else
    for pid in "\${all[@]#/proc/}"; do (( pid != $$ )) && check "$pid"; done
  fi
}
reap() {
  local pid nap_s
  local -A termed=()
  scan "$@"
  for nap_s in 0.002 0.005 0.01 0.02 0.05 0.1 0.1 0.1 0.1; do
    (( \${#found[@]} )) || return 0
    for pid in "\${found[@]}"; do
      [[ \${termed[$pid]} ]] && continue
      termed[$pid]=1
      kill -TERM "$pid" 2>/dev/null
    done
    read -r -t "$nap_s" -u "$nap"
    scan "$@"
  done
  for nap_s in 0 0.002 0.005 0.01 0.02 0.02 0.05 0.05 0.05 0.1 0.1 0.1; do
    (( \${#found[@]} )) || return 0
    kill -KILL "\${found[@]}" 2>/dev/null
    read -r -t "$nap_s" -u "$nap"
    scan "$@"
  done
}
while IFS= read -r line; do
  lines=("$line")
  while read -r -t 0 && IFS= read -r line; do lines+=("$line"); done
  steps=() marks=() low=-1 high=0 quit=
  for line in "\${lines[@]}"; do
    read -r verb n pid <<< "$line"
    case $verb in
      end)
        steps+=("$n")
        marks+=("$prefix$n=")
        (( low < 0 || pid < low )) && low=$pid
        (( pid > high )) && high=$pid
        ;;
      quit) quit=1 ;;
    esac
  done
  if (( \${#steps[@]} )); then
    # One of these steps from before pids wrapped: look at all of them.
    read -r last < /proc/sys/kernel/ns_last_pid 2>/dev/null && (( high > last )) && low=0
    reap "$low" "\${marks[@]}"
    printf '%s\\n' "\${steps[@]}"
  fi
  [[ $quit ]] && exit 0
done
reap 0 "$prefix"
`;

/** Exit status of the reaper where there is no /proc to read. */
const UNAVAILABLE = 3;

class Reaper {
  #child: Deno.ChildProcess;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #waiting = new Map<number, (stopped: boolean) => void>();
  #reading = false;
  #buffer = "";
  #decoder = new TextDecoder();
  #gone = false;
  readonly exited: Promise<Deno.CommandStatus>;

  constructor() {
    this.#child = new Deno.Command("bash", {
      args: ["-c", REAPER, "hwfe-reaper", PREFIX],
      // A BASH_ENV file would run before the reaper's own code.
      env: { BASH_ENV: "" },
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
      detached: true,
    }).spawn();
    // Idle, the reaper must not keep hwfe (or a library user's program)
    // alive; while an answer is awaited it must, and Deno's unref() also
    // covers reads from the child's pipes, so #read refs it meanwhile.
    this.#child.unref();
    this.#writer = this.#child.stdin.getWriter();
    this.#reader = this.#child.stdout.getReader();
    this.exited = this.#child.status;
    this.exited.then(() => this.#fail(), () => this.#fail());
  }

  get gone(): boolean {
    return this.#gone;
  }

  /** Resolves true once step `n`'s processes are gone, false if the reaper cannot say. */
  stop(n: number, lowestPid: number): Promise<boolean> {
    if (this.#gone) return Promise.resolve(false);
    const done = new Promise<boolean>((resolve) => this.#waiting.set(n, resolve));
    this.#writer.write(new TextEncoder().encode(`end ${n} ${lowestPid}\n`)).catch(() =>
      this.#fail()
    );
    this.#read();
    return done;
  }

  /** Ends the reaper without stopping anything (no step is running). */
  async close(): Promise<void> {
    this.#gone = true;
    await this.#writer.write(new TextEncoder().encode("quit\n")).catch(() => {});
    await this.#writer.close().catch(() => {});
    await this.#reader.cancel().catch(() => {});
    this.#child.ref();
    await this.exited;
  }

  /**
   * Reads answers only while some are awaited: a read left pending would
   * keep the program alive after its last step.
   */
  async #read(): Promise<void> {
    if (this.#reading) return;
    this.#reading = true;
    this.#child.ref();
    try {
      while (this.#waiting.size) {
        const { value, done } = await this.#reader.read();
        if (done) return this.#fail();
        this.#buffer += this.#decoder.decode(value, { stream: true });
        let end;
        while ((end = this.#buffer.indexOf("\n")) >= 0) {
          const n = Number(this.#buffer.slice(0, end));
          this.#buffer = this.#buffer.slice(end + 1);
          this.#waiting.get(n)?.(true);
          this.#waiting.delete(n);
        }
      }
    } catch {
      this.#fail();
    } finally {
      this.#reading = false;
      this.#child.unref();
    }
  }

  #fail(): void {
    this.#gone = true;
    for (const resolve of this.#waiting.values()) resolve(false);
    this.#waiting.clear();
  }
}

let reaper: Reaper | undefined;
/** Set once a reaper found no /proc: none is started again. */
let unavailable = Deno.build.os !== "linux";
let running = 0;
let counter = 0;

function currentReaper(): Reaper | undefined {
  if (unavailable) return undefined;
  if (!reaper || reaper.gone) {
    try {
      const fresh = new Reaper();
      fresh.exited.then((status) => {
        if (status.code === UNAVAILABLE) unavailable = true;
      }, () => {});
      reaper = fresh;
    } catch {
      unavailable = true; // no bash: the step itself will say so
      return undefined;
    }
  }
  return reaper;
}

/** The processes of one step, marked by a variable in their environment. */
export interface StepProcesses {
  /** The variable to add to the step's environment. */
  readonly env: Record<string, string>;
  /**
   * Stops every marked process still running (SIGTERM, then SIGKILL after
   * up to half a second) and resolves true once they are gone; resolves
   * false when they cannot be tracked here (no `/proc`). `pid` is the
   * step's first process, undefined if it never started. Call once.
   */
  stop(pid: number | undefined): Promise<boolean>;
}

/** Marks a new step's processes; call before starting its first one. */
export function trackStepProcesses(): StepProcesses {
  const n = ++counter;
  const reaper = currentReaper();
  const startedAt = performance.now();
  running++;
  let stopped: Promise<boolean> | undefined;
  return {
    env: { [`${PREFIX}${n}`]: "1" },
    stop(pid) {
      return stopped ??= (async () => {
        try {
          if (!reaper || pid === undefined) return false;
          const recent = performance.now() - startedAt < RECENT_MS;
          return await reaper.stop(n, recent ? pid : 0);
        } finally {
          running--;
        }
      })();
    },
  };
}

/**
 * Ends the reaper once no step is running (a run's end; another run in the
 * same program may still have steps going, and then the reaper stays).
 */
export async function closeReaper(): Promise<void> {
  if (running > 0 || !reaper) return;
  const closing = reaper;
  reaper = undefined;
  await closing.close();
}
