/**
 * `hwfe completions bash|zsh|fish`: completion scripts for commands, flags,
 * their choices and workflow names, made from the commander program itself
 * so that a new flag is completed without anyone remembering to add it.
 * Workflow names come from `hwfe list --names` when completing, so they
 * follow the workflows directory of the directory the user is in.
 *
 * @module
 */

import type { Command, Option } from "../_util/npm/commander.ts";
import { ExitCode } from "../_util/errors.ts";
import { writeAll } from "./output.ts";

/** The shells hwfe writes completions for. */
export const SHELLS = ["bash", "zsh", "fish"] as const;
/** One of {@link SHELLS}. */
export type Shell = typeof SHELLS[number];

/** What a completion script needs to know of one flag. */
interface FlagSpec {
  /** `--mode`, and `-j` when it has a short form. */
  long: string;
  short?: string;
  description: string;
  /** Takes a value as the next word (`--mode parallel`). */
  takesValue: boolean;
  /** The values it takes, when they are a fixed list. */
  choices?: string[];
  /** Its value is a path (`--config <path>`, `--report <file>`). */
  path: boolean;
}

/** What a completion script needs to know of one command. */
interface CommandSpec {
  name: string;
  description: string;
  flags: FlagSpec[];
  /** Its argument is a workflow (a name in the workflows directory or a .lua file). */
  workflow: boolean;
  /** Its argument's values, when they are a fixed list (`completions <shell>`). */
  choices?: string[];
}

function flagSpec(option: Option): FlagSpec | undefined {
  if (!option.long || option.hidden) return undefined;
  return {
    long: option.long,
    short: option.short,
    description: option.description,
    takesValue: option.required,
    choices: option.argChoices,
    path: /<(path|file)>/.test(option.flags),
  };
}

/** The commands and flags of `program`, as the scripts complete them. */
function commandSpecs(program: Command): CommandSpec[] {
  return program.commands.filter((command) => !(command as unknown as { _hidden: boolean })._hidden)
    .map((command) => {
      const [argument] = command.registeredArguments;
      return {
        name: command.name(),
        description: command.description(),
        flags: [...command.options.map(flagSpec), HELP].filter((f): f is FlagSpec => !!f),
        workflow: argument?.name() === "workflow",
        choices: argument?.argChoices,
      };
    });
}

const HELP: FlagSpec = {
  long: "--help",
  short: "-h",
  description: "display help for command",
  takesValue: false,
  path: false,
};

/** A word in single quotes for bash, zsh and fish alike. */
function quoted(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

function bashScript(commands: CommandSpec[]): string {
  const names = commands.map((c) => c.name).join(" ");
  const valueCases = commands.flatMap((command) =>
    command.flags.filter((f) => f.takesValue).map((flag) => {
      const words = [flag.long, flag.short].filter(Boolean).map((w) => `${command.name}:${w}`);
      const reply = flag.choices
        ? `COMPREPLY=($(compgen -W ${quoted(flag.choices.join(" "))} -- "$cur"))`
        : flag.path
        ? `COMPREPLY=($(compgen -f -- "$cur"))`
        : "COMPREPLY=()";
      return `    ${words.join("|")}) ${reply}; return ;;`;
    })
  );
  const flagCases = commands.map((command) => {
    const flags = command.flags.flatMap((f) => [f.long, f.short ?? []].flat()).join(" ");
    return `    ${command.name}) flags=${quoted(flags)} ;;`;
  });
  const argumentCases = commands.filter((c) => c.workflow || c.choices).map((command) =>
    command.choices
      ? `    ${command.name}) COMPREPLY=($(compgen -W ${
        quoted(command.choices.join(" "))
      } -- "$cur")) ;;`
      : `    ${command.name}) _hwfe_workflows ;;`
  );
  return `# hwfe completion for bash. Load it with: source <(hwfe completions bash)
# or save it as /etc/bash_completion.d/hwfe (~/.local/share/bash-completion/completions/hwfe).
_hwfe_workflows() {
  local IFS=$'\\n'
  COMPREPLY=($(compgen -W "$("\${COMP_WORDS[0]}" list --names 2>/dev/null)" -- "$cur")
    $(compgen -f -X '!*.lua' -- "$cur") $(compgen -d -- "$cur"))
}
_hwfe() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" cmd="" flags i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in -*) ;; *) cmd="\${COMP_WORDS[i]}"; break ;; esac
  done
  if [[ -z "$cmd" ]]; then
    COMPREPLY=($(compgen -W ${quoted(`${names} --help --version`)} -- "$cur"))
    return
  fi
  case "$cmd:$prev" in
${valueCases.join("\n")}
  esac
  case "$cmd" in
${flagCases.join("\n")}
    *) return ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$flags" -- "$cur"))
    return
  fi
  case "$cmd" in
${argumentCases.join("\n")}
  esac
}
complete -o filenames -F _hwfe hwfe
`;
}

/** Text inside a zsh `_arguments` spec's brackets or a `_describe` item. */
function zshText(text: string): string {
  return text.replace(/[[\]:\\]/g, (c) => `\\${c}`);
}

function zshScript(commands: CommandSpec[]): string {
  const described = commands.map((c) => quoted(`${c.name}:${zshText(c.description)}`));
  const cases = commands.map((command) => {
    const specs = command.flags.map((flag) => {
      const names = flag.short ? `{${flag.short},${flag.long}}` : flag.long;
      const action = !flag.takesValue
        ? ""
        : flag.choices
        ? `:value:(${flag.choices.join(" ")})`
        : flag.path
        ? ":path:_files"
        : ":value: ";
      return `${names}${quoted(`[${zshText(flag.description)}]${action}`)}`;
    });
    if (command.workflow) specs.push(quoted("*:workflow:_hwfe_workflows"));
    if (command.choices) specs.push(quoted(`1:value:(${command.choices.join(" ")})`));
    return `    ${command.name}) _arguments -s \\\n      ${specs.join(" \\\n      ")} ;;`;
  });
  return `#compdef hwfe
# hwfe completion for zsh. Load it with: source <(hwfe completions zsh)
# (after compinit), or save it as _hwfe in a folder of your $fpath.
_hwfe_workflows() {
  local -a names
  names=(\${(f)"$(\${words[1]} list --names 2>/dev/null)"})
  _describe -t workflows workflow names
  _files -g '*.lua'
}
_hwfe() {
  local -a commands
  commands=(${described.join(" ")})
  if (( CURRENT == 2 )); then
    _describe -t commands command commands
    return
  fi
  words=("\${(@)words[2,-1]}")
  (( CURRENT-- ))
  case $words[1] in
${cases.join("\n")}
  esac
}
compdef _hwfe hwfe
`;
}

function fishScript(commands: CommandSpec[]): string {
  const lines = [
    "# hwfe completion for fish. Load it with: hwfe completions fish | source",
    "# or save it as ~/.config/fish/completions/hwfe.fish.",
    "complete -c hwfe -f",
  ];
  for (const command of commands) {
    lines.push(
      `complete -c hwfe -n __fish_use_subcommand -a ${command.name} -d ${
        quoted(command.description)
      }`,
    );
    const when = `-n ${quoted(`__fish_seen_subcommand_from ${command.name}`)}`;
    for (const flag of command.flags) {
      const value = !flag.takesValue
        ? ""
        : flag.choices
        ? ` -x -a ${quoted(flag.choices.join(" "))}`
        : flag.path
        ? " -r -F"
        : " -x";
      const short = flag.short ? ` -s ${flag.short.slice(1)}` : "";
      lines.push(
        `complete -c hwfe ${when} -l ${flag.long.slice(2)}${short}${value} -d ${
          quoted(flag.description)
        }`,
      );
    }
    if (command.workflow) {
      lines.push(
        `complete -c hwfe ${when} -a '(hwfe list --names 2>/dev/null)' -d workflow`,
        `complete -c hwfe ${when} -a '(__fish_complete_suffix .lua)'`,
      );
    }
    if (command.choices) {
      lines.push(`complete -c hwfe ${when} -a ${quoted(command.choices.join(" "))}`);
    }
  }
  return lines.join("\n") + "\n";
}

/** The completion script of `shell` for `program`. */
export function completionScript(shell: Shell, program: Command): string {
  const commands = commandSpecs(program);
  return shell === "bash"
    ? bashScript(commands)
    : shell === "zsh"
    ? zshScript(commands)
    : fishScript(commands);
}

/** `hwfe completions <shell>`: prints the script. */
export function completionsCommand(shell: Shell, program: Command): number {
  writeAll(Deno.stdout, completionScript(shell, program));
  return ExitCode.ok;
}
