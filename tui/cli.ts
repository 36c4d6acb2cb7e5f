#!/usr/bin/env node
// The exolab command line (DESIGN.md section 6). Exit codes: 0 ran fine, 1 an expectation
// failed, 2 bad input or usage (one line, never a stack trace), 124 the instruction limit,
// 128+N a guest killed by signal N, 70 a bug in exolab. Commands load their modules lazily.

import { readFileSync } from 'node:fs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { InputError } from '../machine/errors.js';

const EXIT_USAGE = 2;
const EXIT_BUG = 70;        // EX_SOFTWARE from sysexits.h

const COMMANDS = ['run', 'lab', 'faults', 'exec', 'boot', 'completion'];

function cliVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    return String(pkg.version);
  } catch {
    return 'unknown';
  }
}

function cliUsageError(message: string): never {
  process.stderr.write(`exolab: ${message}\n`);
  process.exit(EXIT_USAGE);
}

/** yargs' messages, made into one line that says what to do next. */
function cliExplain(msg: string, argv: string[]): string {
  const first = argv.find((a) => !a.startsWith('-'));
  if (first !== undefined && !COMMANDS.includes(first) && msg.startsWith('Unknown argument')) {
    return `unknown command '${first}'; available: ${COMMANDS.join(', ')} (see exolab --help)`;
  }
  if (first === 'run' && msg.startsWith('Not enough non-option arguments')) {
    return 'run: expected SCENARIO, a built-in name or a YAML file (usage: exolab run SCENARIO [--headless] [--for T] [--report F.json])';
  }
  if (first === 'exec' && msg.startsWith('Not enough non-option arguments')) {
    return 'exec: expected FILE.elf (usage: exolab exec FILE.elf [--max-instructions N] [--stats])';
  }
  const unknown = /^Unknown argument: (\S+)$/.exec(msg)?.[1];
  const flag = unknown && argv.find((a) => a.replace(/^-+/, '').split('=')[0] === unknown);
  if (flag && flag.startsWith('-')) msg = `unknown option ${flag.split('=')[0]}`;
  const where = first !== undefined && COMMANDS.includes(first) ? ` (see exolab ${first} --help)` : ' (see exolab --help)';
  return msg.replace(/\s*\n\s*/g, ' ') + where;
}

/**
 * yargs takes `--stats=7` for a boolean as false, silently: a boolean flag given a value is a
 * usage error here. `booleans` are the boolean flags of the command being parsed, `aliases`
 * yargs' alias map (alias -> names); arguments after `--` are not looked at.
 */
function cliCheckBooleans(argv: string[], booleans: readonly string[], aliases: Record<string, string[]>): void {
  const names = new Set(booleans);
  for (const [k, vs] of Object.entries(aliases)) {
    if (names.has(k) || vs.some((v) => names.has(v))) for (const n of [k, ...vs]) names.add(n);
  }
  const first = argv.find((a) => !a.startsWith('-'));
  for (const arg of argv) {
    if (arg === '--') break; // what follows is not ours
    const m = /^--?(?:no-)?([^=]+)=/.exec(arg);
    if (m === null || !names.has(m[1]!)) continue;
    const where = first !== undefined && COMMANDS.includes(first) ? `exolab ${first} --help` : 'exolab --help';
    cliUsageError(`${arg.split('=')[0]} takes no value, found '${arg}' (write ${arg.split('=')[0]} alone; see ${where})`);
  }
}

/** `exolab` alone: the TUI on the built-in demo (headless, saying so, without a terminal). */
async function cliNoCommand(): Promise<void> {
  const { runCommand } = await import('./run-command.js');
  process.exitCode = await runCommand({ scenario: 'demo' });
}

async function cliMain(argv: string[]): Promise<void> {
  const parser = yargs(argv);
  await parser
    .scriptName('exolab')
    .usage('$0 [command]\n\nA terminal lab for exokernel and unikernel ideas on an emulated x86-like machine.')
    .command('$0', false, () => {}, () => cliNoCommand())
    .command(
      'run <scenario>',
      'Run a scenario: in the TUI on a terminal, else (or with --headless) to a summary, report and exit code',
      (y) => y
        .positional('scenario', { type: 'string', describe: 'a built-in scenario name (demo, ipi-ring, ...) or a scenario YAML file' })
        .option('headless', { type: 'boolean', describe: 'no TUI: run to the end, print the summary, exit 0 (all expectations held) or 1' })
        .option('for', { type: 'string', describe: 'simulated time to run instead of the file\'s run.for, e.g. 20ms', requiresArg: true })
        .option('seed', { type: 'string', describe: 'seed instead of the file\'s', requiresArg: true })
        .option('wire', { type: 'string', describe: 'the NIC\'s wire instead of the file\'s: loop, pcap:FILE[@RATE], gen:...', requiresArg: true })
        .option('record', { type: 'string', describe: 'record what the NIC sends to this pcap file', requiresArg: true })
        .option('report', { type: 'string', describe: 'write the JSON report here (tui/report.schema.json)', requiresArg: true })
        .option('junit', { type: 'string', describe: 'write JUnit XML here: one testcase per expectation', requiresArg: true })
        .option('trace', { type: 'string', describe: 'write a Chrome trace-event JSON here (open it in Perfetto)', requiresArg: true })
        .example('$0 run demo', 'the built-in demo in the TUI')
        .example('$0 run demo --headless --report out.json --junit out.xml', 'grade a run: exit 1 if an expectation failed')
        .example('$0 run my.yaml --headless --for 20ms --seed 7 --trace t.json', 'override the length and seed; trace for Perfetto')
        .epilogue('Same scenario and seed: byte-identical report and trace. Exit codes: 0 every expectation held, 1 an expectation failed, 2 bad input (file:line:col and what was expected).'),
      async (args) => {
        const { runCommand } = await import('./run-command.js');
        process.exitCode = await runCommand({
          scenario: String(args.scenario), headless: args.headless, for: args.for, seed: args.seed,
          wire: args.wire, record: args.record, report: args.report, junit: args.junit, trace: args.trace,
        });
      },
    )
    .command(
      'lab <name>',
      'Run a lab headless: the chapter\'s figure beside the one measured here (lab list shows them)',
      (y) => y
        .positional('name', { type: 'string', describe: 'a lab name, or list' })
        .option('set', { type: 'string', array: true, describe: 'a parameter NAME=VALUE with its unit (ns, us, ms, /ms, B, KiB); repeatable', requiresArg: true })
        .option('json', { type: 'boolean', describe: 'print {lab, parameters, figures: [{name, chapter, measured, unit}]} as JSON' })
        .example('$0 lab list', 'the labs, their figures and parameters')
        .example('$0 lab revocation', 't_safe with the chapter\'s parameters: q 64, r 160/ms, t_fence 0.25 ms, t_unmap 0.35 ms')
        .example('$0 lab revocation --set q=32 --set r=1/us --json', 'other parameters; the figure moves as t_fence + q/r + t_unmap says'),
      async (args) => {
        const { labCommand } = await import('./lab-command.js');
        process.exitCode = labCommand({ name: String(args.name), set: (args.set as string[] | undefined) ?? [], json: args.json === true });
      },
    )
    .command(
      'faults',
      'List the fault catalogue that scenarios and the TUI\'s fault menu share',
      (y) => y
        .example('$0 faults', 'kinds, targets and parameters, for a scenario\'s faults: list'),
      async () => {
        const { FAULTS } = await import('../kernel/faults.js');
        const lines = FAULTS.map((f) => {
          const params = f.params.map((p) => `${p.name}: ${p.describe}`).join('; ');
          return `${f.kind.padEnd(18)} [${f.key}] target: ${f.target}${f.targetOptional ? ' (optional)' : ''}, ${f.layer}\n    ${f.description}${params ? `\n    parameters: ${params}` : ''}`;
        });
        process.stdout.write(lines.join('\n') + '\n');
      },
    )
    .command(
      'exec <file>',
      'Run a static i386 ELF on one core with a tiny Linux int 0x80 subset (write, exit)',
      (y) => y
        .positional('file', { type: 'string', describe: 'static ELF32 EM_386 executable', normalize: false })
        .option('max-instructions', {
          type: 'string',
          describe: 'stop the guest after N instructions (exit code 124, like timeout(1))',
          requiresArg: true,
        })
        .option('stats', { type: 'boolean', describe: 'print instructions, cycles, host time and MIPS to stderr' })
        .example('$0 exec hello.elf', 'run hello.elf; its output goes to stdout, its exit code is ours')
        .example('$0 exec loop.elf --max-instructions 1000000', 'stop a runaway guest (exit 124)')
        .example('$0 exec bench.elf --stats', 'report guest instructions, cycles and MIPS')
        .epilogue('Exit codes: the guest\'s own; 2 bad input; 124 instruction limit; 128+N guest killed by signal N (SIGFPE 136, SIGSEGV 139, SIGILL 132).'),
      async (args) => {
        const { execCommand } = await import('./exec-command.js');
        process.exitCode = execCommand({
          file: String(args.file),
          maxInstructions: args['max-instructions'],
          stats: args.stats,
        });
      },
    )
    .command(
      'boot [file]',
      'Boot a bare ring-0 image on the machine (no exokernel): paging, local APICs, IPIs, UART',
      (y) => y
        .positional('file', { type: 'string', describe: 'static ELF32 EM_386 image, loaded at its physical addresses' })
        .option('cores', { type: 'string', describe: 'number of cores, 1 to 64 (core 0 boots; the others wait for a STARTUP IPI, whose vector V starts a core at physical V << 12, a page below 1 MiB)', requiresArg: true })
        .option('for', { type: 'string', describe: 'simulated time to run, e.g. 2ms, 500us, 1e6cycles (default 10ms)', requiresArg: true })
        .option('seed', { type: 'string', describe: 'seed of the machine\'s PRNG (default 1)', requiresArg: true })
        .option('ram', { type: 'string', describe: 'guest RAM, 1MiB to 3GiB (default 64MiB); the image must fit in it: link it at 1 MiB (gcc -Wl,-Ttext-segment=0x100000) or give more', requiresArg: true })
        .option('profile', { type: 'string', describe: 'cost profile: default, seed-chapter or a YAML file', requiresArg: true })
        .option('wire', { type: 'string', describe: 'attach the NIC on this wire: pcap:FILE[@RATE], gen:rate=..,size=..,flows=.., loop; add +record:FILE[,rx]', requiresArg: true })
        .option('queues', { type: 'string', describe: 'NIC queue pairs, 1 to 16 (default 4)', requiresArg: true })
        .option('disk', { type: 'string', describe: 'attach the block device: an image FILE (never modified) or a blank SIZE like 16MiB', requiresArg: true })
        .option('stats', { type: 'boolean', describe: 'print time, MIPS and per-core counters to stderr; with --wire, the NIC\'s counters and the frames the wire dropped' })
        .option('hash', { type: 'boolean', describe: 'print the final machine state hash' })
        .option('snapshot', { type: 'string', describe: 'write the machine to this file when the run stops', requiresArg: true })
        .option('restore', { type: 'string', describe: 'start from a snapshot instead of an image', requiresArg: true })
        .example('$0 boot smp.elf --cores 4 --for 20ms --stats', 'test/bench/smp-bench.c (see README.md) on 4 cores for 20 ms of simulated time')
        .example('$0 boot os.elf --for 1ms --snapshot a.snap && $0 boot --restore a.snap --for 1ms --hash', 'stop, save, and continue later')
        .epilogue('The image starts on core 0 in ring 0, paging off, with EAX = 0x4c4f5845 (\'EXOL\'), EBX = cores, ECX = RAM bytes, ESP = top of RAM. UART at 0xfe000000, power-off register at 0xfe001000, local APIC at 0xfee00000, IOMMU at 0xfed00000, PCI configuration (ECAM) at 0xe0000000: NIC at 00:02.0, block device at 00:04.0, BARs from 0xc0000000. Exit codes: the power-off status; 0 when --for elapsed; 2 bad input; 139 a core shut down (triple fault) and the machine stopped.'),
      async (args) => {
        const { bootCommand } = await import('./boot-command.js');
        process.exitCode = bootCommand({
          file: args.file, cores: args.cores, for: args.for, seed: args.seed, ram: args.ram,
          profile: args.profile, stats: args.stats, hash: args.hash, snapshot: args.snapshot, restore: args.restore,
          wire: args.wire, queues: args.queues, disk: args.disk,
        });
      },
    )
    .example('$0', 'the TUI on the built-in demo scenario')
    .example('$0 run demo --headless', 'the demo without a TUI: summary and exit code')
    .example('$0 exec hello.elf --stats', 'run a static i386 program and show how fast it ran')
    .epilogue('Exit codes: 0 success, 1 an expectation failed, 2 bad input or usage, 124 exec\'s instruction limit, 128+N a guest killed by signal N, 139 a machine shut down by a triple fault, 74 guest output could not be written, 70 a bug in exolab.')
    .middleware(() => {
      // getOptions() (untyped) is yargs' record of the options of the command being run.
      const o = (parser as unknown as { getOptions(): { boolean: string[]; alias: Record<string, string[]> } }).getOptions();
      cliCheckBooleans(argv, o.boolean, o.alias);
    })
    .completion('completion', 'Print a bash/zsh completion script (exolab completion >> ~/.bashrc)')
    .strict()
    .version(cliVersion())
    .help()
    .alias('h', 'help')
    .alias('V', 'version')
    .wrap(Math.min(100, process.stdout.columns || 100))
    .fail((msg, err) => {
      if (err && err.name !== 'YError') throw err; // a handler's own error: cliCrash sorts it
      cliUsageError(cliExplain(msg || err?.message || 'bad usage', argv));
    })
    .parseAsync();
}

function cliCrash(e: unknown): never {
  if (e instanceof InputError) cliUsageError(e.message);
  process.stderr.write(`exolab: internal error, a bug in exolab; please report it with this trace:\n${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(EXIT_BUG);
}

// A closed pipe (exolab exec x | head) ends output quietly, as coreutils do.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

cliMain(hideBin(process.argv)).catch(cliCrash);
