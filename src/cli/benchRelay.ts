/**
 * The floor of any process gateway, for `automcp bench overhead`: a process between client and server
 * that does nothing but read each JSON-RPC line, parse it, write it again and pass it on, both ways.
 * Run as `node benchRelay.js <command> [args...]`; it spawns the server and exits with it.
 */
import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';

const [command, ...args] = process.argv.slice(2);
if (command === undefined) {
  process.stderr.write('usage: benchRelay.js <command> [args...]\n');
  process.exit(2);
}
const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'ignore'] });
relayLines(process.stdin, child.stdin);
relayLines(child.stdout, process.stdout);
process.stdin.on('end', () => child.stdin.end());
child.on('exit', (code) => process.exit(code ?? 0));

/** Re-writes every line of `from` onto `to`, parsed and serialised again as a gateway would. */
function relayLines(from: Readable, to: Writable): void {
  let pending = '';
  from.setEncoding('utf8');
  from.on('data', (chunk: string) => {
    pending += chunk;
    let end: number;
    while ((end = pending.indexOf('\n')) !== -1) {
      const line = pending.slice(0, end);
      pending = pending.slice(end + 1);
      if (line.trim() !== '') to.write(`${JSON.stringify(JSON.parse(line))}\n`);
    }
  });
}
