/** `automcp import`: prints what was merged into runtime.yaml, or with `--dry-run` the diff. */
import { applyImport, importTarget, readSources, type ImportReport } from '../clients/import.js';
import { currentPlatform } from '../clients/paths.js';
import { isClientError } from '../clients/types.js';

/** Runs the import; returns the exit code. */
export async function importCommand(options: { from: string; config?: string; dryRun?: boolean }): Promise<number> {
  try {
    const platform = currentPlatform();
    const sources = await readSources({ from: options.from, platform });
    const runtimeFile = await importTarget(options.config, platform.env);
    const report = await applyImport({ sources, runtimeFile, dryRun: options.dryRun === true });
    printImport(report, options.dryRun === true);
    return 0;
  } catch (error) {
    if (!isClientError(error)) throw error;
    process.stderr.write(`automcp: ${error.message}\n`);
    return 1;
  }
}

/** Prints an import report: added and skipped servers, secrets moved, warnings (on stderr), and the diff on a dry run. */
export function printImport(report: ImportReport, dryRun: boolean): void {
  const out = (line = '') => process.stdout.write(`${line}\n`);
  const { plan } = report;
  for (const warning of plan.warnings) process.stderr.write(`warning: ${warning}\n`);
  if (dryRun) {
    out(report.diff === '' ? `runtime.yaml would not change (${report.runtimeFile})` : report.diff.trimEnd());
    if (report.envAdded.length > 0) out(`${report.envFile} would get ${report.envAdded.join(', ')} (values not shown)`);
    out('Dry run: nothing was written.');
    return;
  }
  const verb = report.created ? 'Created' : 'Updated';
  out(
    plan.added.length === 0
      ? `Nothing to import into ${report.runtimeFile}.`
      : `${verb} ${report.runtimeFile}: ${plan.added.length} server${plan.added.length === 1 ? '' : 's'} imported.`,
  );
  for (const added of plan.added) {
    out(
      `  + ${added.name.padEnd(20)} from ${added.where}${added.secrets.length > 0 ? `; secrets → .env: ${added.secrets.join(', ')}` : ''}`,
    );
  }
  for (const skipped of plan.skipped) out(`  - ${skipped.where.padEnd(20)} skipped: ${skipped.reason}`);
  if (report.envAdded.length > 0) out(`Secrets are in ${report.envFile} (mode 0600); runtime.yaml refers to them as \${VAR}.`);
}
