/** `automcp init`: the starter configuration, in the user's config folder or (`--here`) the current one. */
import { userConfigDir } from '../config/load.js';
import { writeStarter } from '../config/starter.js';

/** Writes the starter and prints what it wrote and what to do next; returns the exit code. */
export async function initCommand(options: { here?: boolean; force?: boolean }): Promise<number> {
  const dir = options.here ? process.cwd() : userConfigDir();
  const report = await writeStarter({ dir, ...(options.force ? { force: true } : {}) });
  for (const file of report.written) process.stdout.write(`wrote ${file}\n`);
  for (const file of report.kept) process.stdout.write(`kept  ${file} (it exists; --force overwrites it)\n`);
  process.stdout.write(
    '\nNext:\n' +
      '  automcp import --from claude-desktop    bring in the servers a client already uses (or --from PATH)\n' +
      '  automcp check                           start every server and count its tools\n' +
      '  automcp install --client claude-desktop point the client at automcp\n',
  );
  return 0;
}
