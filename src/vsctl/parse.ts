/**
 * The ovs-vsctl command line: `[OPTIONS] COMMAND [ARG...] [-- [OPTIONS] COMMAND [ARG...]]...`
 * (ovs-vsctl(8) SYNOPSIS).
 *
 * Global options (--db, --no-wait, --timeout, --dry-run, --help) may appear among the options
 * of the first command. Any other leading `--option[=value]` of a group belongs to that group's
 * command and must be one the command accepts; the error names the command and the option
 * ("'list-br' command has no '--may-exist' option"), like ovs-vsctl.
 *
 * Neighbours: context.ts (CommandSpec), schema.ts (VsctlError).
 */
import type { CommandSpec } from './context.ts';
import { VsctlError } from './schema.ts';
import { DEFAULT_STYLE, parseData, parseFormat, type TableStyle } from './table.ts';

export interface GlobalOptions {
  db?: string;
  noWait: boolean;
  /** Seconds; 0 = wait forever (ovs-vsctl's default). */
  timeout: number;
  dryRun: boolean;
  help: boolean;
  /** list/find output (--format, --data, --no-headings, --bare). */
  style: TableStyle;
  /** --oneline: each command's output on one line, its newlines as "\\n". */
  oneline: boolean;
}

export interface Invocation {
  spec: CommandSpec;
  args: string[];
  options: Map<string, string>;
}

export interface ParsedCommandLine {
  global: GlobalOptions;
  commands: Invocation[];
}

const GLOBAL_WITH_VALUE = new Set(['--db', '--timeout', '-t', '--format', '-f', '--data', '-d']);
const GLOBAL_FLAGS = new Set(['--no-wait', '--dry-run', '--help', '-h', '--retry', '--no-syslog', '--bare', '--no-headings',
  '--oneline', '--pretty']);

function splitOption(tok: string): [string, string | undefined] {
  const eq = tok.indexOf('=');
  return eq < 0 ? [tok, undefined] : [tok.slice(0, eq), tok.slice(eq + 1)];
}

function applyGlobal(g: GlobalOptions, name: string, value: string | undefined): void {
  switch (name) {
    case '--db':
      g.db = value;
      break;
    case '--timeout':
    case '-t': {
      if (value === undefined || !/^\d+$/.test(value)) throw new VsctlError(`--timeout: "${value ?? ''}" is not a valid number of seconds`);
      g.timeout = Number(value);
      break;
    }
    case '--no-wait':
      g.noWait = true;
      break;
    case '--dry-run':
      g.dryRun = true;
      break;
    case '--help':
    case '-h':
      g.help = true;
      break;
    case '--format':
    case '-f':
      g.style.format = parseFormat(value ?? '');
      break;
    case '--data':
    case '-d':
      g.style.data = parseData(value ?? '');
      break;
    case '--no-headings':
      g.style.headings = false;
      break;
    case '--bare':
      g.style = { format: 'list', data: 'bare', headings: false };
      break;
    case '--oneline':
      g.oneline = true;
      break;
    default:
      break; // --retry, --no-syslog, --pretty: accepted for compatibility, no effect
  }
}

/** Parses argv (without the program name) against `registry`. */
export function parseCommandLine(argv: string[], registry: ReadonlyMap<string, CommandSpec>): ParsedCommandLine {
  const global: GlobalOptions = { noWait: false, timeout: 0, dryRun: false, help: false, style: { ...DEFAULT_STYLE }, oneline: false };
  const groups: string[][] = [[]];
  for (const tok of argv) {
    if (tok === '--') groups.push([]);
    else groups[groups.length - 1]!.push(tok);
  }
  const commands: Invocation[] = [];
  groups.forEach((group, gi) => {
    const options = new Map<string, string>();
    let i = 0;
    while (i < group.length && group[i]!.startsWith('-') && group[i] !== '-') {
      const [name, inline] = splitOption(group[i]!);
      i++;
      if (gi === 0 && GLOBAL_WITH_VALUE.has(name)) {
        let value = inline;
        if (value === undefined) {
          if (i >= group.length) throw new VsctlError(`option '${name}' requires an argument`);
          value = group[i++];
        }
        applyGlobal(global, name, value);
      } else if (gi === 0 && GLOBAL_FLAGS.has(name)) {
        applyGlobal(global, name, inline);
      } else {
        if (options.has(name)) throw new VsctlError(`'${name}' option specified multiple times`);
        options.set(name, inline ?? '');
      }
    }
    const rest = group.slice(i);
    if (rest.length === 0) {
      if (gi === 0 && options.size === 0) return; // global options only: `ovs-vsctl --no-wait -- add-br br0`
      throw new VsctlError(gi === 0 ? 'missing command name (use --help for help)' : `missing command name after "--" (group ${gi + 1})`);
    }
    const [name, ...args] = rest as [string, ...string[]];
    const spec = registry.get(name);
    if (spec === undefined) throw new VsctlError(`unknown command '${name}'; use --help for help`);
    for (const o of options.keys()) {
      if (!spec.options.includes(o)) throw new VsctlError(`'${name}' command has no '${o}' option`);
    }
    if (args.length < spec.minArgs) throw new VsctlError(`'${name}' command requires at least ${spec.minArgs} arguments`);
    if (args.length > spec.maxArgs) {
      const note = args.some((a) => a.startsWith('--')) ? ' (note that options must precede command names and follow a "--" argument)' : '';
      throw new VsctlError(`'${name}' command takes at most ${spec.maxArgs} arguments${note}`);
    }
    commands.push({ spec, args, options });
  });
  if (commands.length === 0 && !global.help) throw new VsctlError('missing command name (use --help for help)');
  return { global, commands };
}
