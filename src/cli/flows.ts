/**
 * `npm run flows`: packets (pcap, pcapng) or a Zeek conn.log in, flow records out, one
 * line per flow as it expires, with the window features; a summary of packets, flows
 * and skipped packets by reason on stderr.
 */
import { closeSync, createReadStream, existsSync, openSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { parseOptions, integerOption, numberOption, oneOf } from './args';
import { CliError, describeError, EXIT_OUTPUT } from './command';
import { FLOW_INPUT_FORMATS, FlowInputError, formatFlowInputSummary, readFlows, type FlowInputFormat, type FlowInputSummary } from '../capture/flow-input';
import { FLOW_CSV_HEADER, flowCsvLine, flowJsonLine } from '../capture/flow-lines';
import { DEFAULT_ACTIVE_TIMEOUT_MS, DEFAULT_IDLE_TIMEOUT_MS, type Accounting } from '../capture/flow-meter';

export const FLOWS_EXIT = { ok: 0, internal: 1, usage: 2, input: 4, output: 5 } as const;

const USAGE = `usage: npm run flows -- --input FILE|- [options]

Reads packets (a pcap or pcapng capture, plain or gzip; from a file or a pipe such as
tcpdump -i IFACE -w - | npm run flows -- --input -) or a Zeek conn.log (TSV or JSON),
and writes one flow record per line as each flow expires: nfstream's fields and units,
a Zeek-style conn_state, the service by port, and the NSL-KDD-style window features.

  --input FILE|-              the capture or log (default: - = stdin)
  --format auto|pcap|pcapng|zeek
                              what the input holds (default auto: told by its first bytes)
  --out FILE|-                where the flows go (default: - = stdout)
  --output-format ndjson|csv  default ndjson; csv has a header line
  --idle-timeout SECONDS      a flow idle this long ends (default ${DEFAULT_IDLE_TIMEOUT_MS / 1000}, as nfstream)
  --active-timeout SECONDS    a flow this long is cut (default ${DEFAULT_ACTIVE_TIMEOUT_MS / 1000}, as nfstream)
  --accounting link|ip|transport|payload
                              which size packets count for (default link: the frame on the
                              wire, nfstream's default accounting mode 0)
  --window-ms N               the time window of the window features (default 2000)
  --window-flows N            the connection window (default 100)
  --no-windows                no window features
  --summary-json FILE         also write the summary as JSON
  --quiet                     no summary on stderr

Exit codes: 0 done, 2 bad usage, 4 input missing, unreadable, or neither a capture nor
a Zeek log, 5 output cannot be written, 1 unexpected failure (a bug; DEBUG=1 for the stack).`;

export interface FlowsArgs {
  input: string;
  format: FlowInputFormat;
  out: string;
  outputFormat: 'ndjson' | 'csv';
  idleTimeoutMs: number;
  activeTimeoutMs: number;
  accounting: Accounting;
  windowMs: number;
  windowFlows: number;
  windows: boolean;
  summaryJson?: string;
  quiet: boolean;
}

/** Parses the command line; 'help' for --help. @throws UsageError (cli/command.ts) */
export function parseFlowsArgs(argv: readonly string[]): FlowsArgs | 'help' {
  const { values } = parseOptions(argv, {
    input: { type: 'string' },
    format: { type: 'string' },
    out: { type: 'string' },
    'output-format': { type: 'string' },
    'idle-timeout': { type: 'string' },
    'active-timeout': { type: 'string' },
    accounting: { type: 'string' },
    'window-ms': { type: 'string' },
    'window-flows': { type: 'string' },
    'no-windows': { type: 'boolean' },
    'summary-json': { type: 'string' },
    quiet: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return 'help';
  const seconds = (flag: string, v: string | undefined, fallbackMs: number) => (v === undefined ? fallbackMs : Math.round(numberOption(flag, v, 0) * 1000));
  return {
    input: values.input ?? '-',
    format: oneOf('--format', values.format, FLOW_INPUT_FORMATS, 'auto'),
    out: values.out ?? '-',
    outputFormat: oneOf('--output-format', values['output-format'], ['ndjson', 'csv'] as const, 'ndjson'),
    idleTimeoutMs: seconds('--idle-timeout', values['idle-timeout'], DEFAULT_IDLE_TIMEOUT_MS),
    activeTimeoutMs: seconds('--active-timeout', values['active-timeout'], DEFAULT_ACTIVE_TIMEOUT_MS),
    accounting: oneOf('--accounting', values.accounting, ['link', 'ip', 'transport', 'payload'] as const, 'link'),
    windowMs: values['window-ms'] === undefined ? 2000 : integerOption('--window-ms', values['window-ms']),
    windowFlows: values['window-flows'] === undefined ? 100 : integerOption('--window-flows', values['window-flows']),
    windows: !values['no-windows'],
    summaryJson: values['summary-json'],
    quiet: values.quiet ?? false,
  };
}

/**
 * Lines to a file descriptor through one reused 1 MiB buffer (writes to files and, on
 * Linux, pipes are synchronous): each line is encoded straight into the buffer, with
 * no joined string and no buffer per write.
 */
class LineWriter {
  private buf = Buffer.allocUnsafe(1 << 20);
  private pos = 0;
  constructor(
    private readonly fd: number,
    private readonly path: string,
  ) {}
  line(text: string): void {
    // a UTF-8 character takes at most 3 bytes per UTF-16 unit; +1 for the newline
    const need = 3 * text.length + 1;
    if (this.pos + need > this.buf.length) {
      this.flush();
      if (need > this.buf.length) this.buf = Buffer.allocUnsafe(need);
    }
    this.pos += this.buf.write(text, this.pos);
    this.buf[this.pos++] = 10;
  }
  flush(): void {
    try {
      for (let at = 0; at < this.pos; ) at += writeSync(this.fd, this.buf, at, this.pos - at);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'EPIPE') throw new OutputClosed();
      throw new CliError(`cannot write the flows to ${this.path}: ${err.code ?? err.message}`, EXIT_OUTPUT);
    } finally {
      this.pos = 0;
    }
  }
}

/** the reader of our stdout went away (`| head`): stop quietly */
class OutputClosed extends Error {}

/** Runs the command; resolves with the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let args: FlowsArgs | 'help';
  try {
    args = parseFlowsArgs(argv);
  } catch (e) {
    const d = describeError('flows', e, undefined, 'npm run flows -- --help');
    process.stderr.write(d.text);
    return d.code;
  }
  if (args === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return FLOWS_EXIT.ok;
  }
  const a = args;
  if (a.input !== '-' && (!existsSync(a.input) || !statSync(a.input).isFile())) {
    process.stderr.write(`flows: cannot read input ${a.input}: ${existsSync(a.input) ? 'not a file' : 'no such file'}\n`);
    return FLOWS_EXIT.input;
  }
  let fd = 1;
  if (a.out !== '-') {
    try {
      fd = openSync(a.out, 'w');
    } catch (e) {
      process.stderr.write(`flows: cannot write the flows to ${a.out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
      return FLOWS_EXIT.output;
    }
  }
  const writer = new LineWriter(fd, a.out === '-' ? 'stdout' : a.out);
  if (a.outputFormat === 'csv') writer.line(FLOW_CSV_HEADER);
  const toLine = a.outputFormat === 'csv' ? flowCsvLine : flowJsonLine;
  const started = performance.now();
  const input = a.input === '-' ? process.stdin : createReadStream(a.input, { highWaterMark: 1 << 20 });
  let summary: FlowInputSummary;
  try {
    summary = await readFlows(input, (f) => writer.line(toLine(f)), {
      name: a.input === '-' ? 'stdin' : a.input,
      format: a.format,
      meter: { idleTimeoutMs: a.idleTimeoutMs, activeTimeoutMs: a.activeTimeoutMs, accounting: a.accounting },
      windows: a.windows ? { timeWindowMs: a.windowMs, connectionWindow: a.windowFlows } : false,
    });
    writer.flush();
  } catch (e) {
    if (e instanceof OutputClosed) return FLOWS_EXIT.ok;
    if (e instanceof FlowInputError) {
      process.stderr.write(`flows: ${e.message}\n`);
      return FLOWS_EXIT.input;
    }
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT' || err.code === 'EACCES' || err.code === 'EISDIR' || err.code === 'EIO') {
      process.stderr.write(`flows: cannot read input ${a.input}: ${err.code}\n`);
      return FLOWS_EXIT.input;
    }
    const d = describeError('flows', e);
    process.stderr.write(d.text);
    return d.code;
  } finally {
    if (fd !== 1) closeSync(fd);
  }
  const seconds = (performance.now() - started) / 1000;
  if (!a.quiet) process.stderr.write(formatFlowInputSummary(`[flows] ${a.input === '-' ? 'stdin' : a.input}`, summary, seconds));
  if (a.summaryJson) {
    try {
      writeFileSync(a.summaryJson, `${JSON.stringify({ input: a.input, seconds, ...summary }, null, 1)}\n`);
    } catch (e) {
      process.stderr.write(`flows: cannot write the summary to ${a.summaryJson}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
      return FLOWS_EXIT.output;
    }
  }
  return FLOWS_EXIT.ok;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (e) => {
      process.stderr.write(describeError('flows', e).text);
      process.exitCode = FLOWS_EXIT.internal;
    },
  );
}
