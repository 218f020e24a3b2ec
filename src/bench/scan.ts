/**
 * `bench scan`: what poisoning detection costs and what it catches. False positives are measured on
 * real catalogs (every tool of every dataset given is taken as benign: they are published servers'
 * definitions), detection on a file of poisoned definitions written from published attack classes,
 * each of which must be caught. The rate is per tool: one finding holds a tool back.
 */
import { readFile } from 'node:fs/promises';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Dataset } from './dataset.js';
import { scanTool, type Finding } from '../security/scan.js';

/** One flagged tool of a benign catalog. */
export interface FlaggedTool {
  name: string;
  findings: Finding[];
}

/** One poisoned definition and whether it was caught. */
export interface AttackResult {
  class: string;
  source: string;
  name: string;
  caught: boolean;
  rules: string[];
}

/** The figures `bench scan` prints. */
export interface ScanReport {
  catalogs: string[];
  tools: number;
  flagged: number;
  /** Share of benign tools held back, 0–1. */
  falsePositiveRate: number;
  /** Flagged tools per rule (a tool counts once per rule that fired on it). */
  byRule: Record<string, number>;
  /** The flagged tools with the most findings first, at most `worst` of them. */
  worst: FlaggedTool[];
  /** Milliseconds to scan every benign tool once. */
  scanMs: number;
  attacks?: {
    file: string;
    total: number;
    caught: number;
    classes: { class: string; total: number; caught: number }[];
    results: AttackResult[];
  };
}

/** A file of poisoned definitions: `{tools: [{class, source, tool}]}`. */
export interface AttackFile {
  tools: { class: string; source: string; tool: Tool }[];
}

/** Scans every tool of `datasets` (benign) and of `attacks` (poisoned). */
export async function runScanBench({
  datasets,
  attacksFile,
  worst = 20,
}: {
  datasets: readonly Dataset[];
  attacksFile?: string;
  worst?: number;
}): Promise<ScanReport> {
  const flagged: FlaggedTool[] = [];
  const byRule: Record<string, number> = {};
  let tools = 0;
  const started = performance.now();
  for (const dataset of datasets) {
    for (const server of dataset.servers) {
      for (const tool of server.tools) {
        tools++;
        const findings = scanTool(tool as Tool);
        if (findings.length === 0) continue;
        flagged.push({ name: `${server.name}.${tool.name}`, findings });
        for (const rule of new Set(findings.map((finding) => finding.rule))) byRule[rule] = (byRule[rule] ?? 0) + 1;
      }
    }
  }
  const scanMs = performance.now() - started;
  const report: ScanReport = {
    catalogs: datasets.map((dataset) => dataset.file),
    tools,
    flagged: flagged.length,
    falsePositiveRate: tools === 0 ? 0 : flagged.length / tools,
    byRule,
    worst: [...flagged].sort((a, b) => b.findings.length - a.findings.length || a.name.localeCompare(b.name)).slice(0, worst),
    scanMs,
  };
  if (attacksFile !== undefined) report.attacks = await scanAttacks(attacksFile);
  return report;
}

async function scanAttacks(file: string): Promise<NonNullable<ScanReport['attacks']>> {
  const doc = JSON.parse(await readFile(file, 'utf8')) as AttackFile;
  const results = doc.tools.map((entry) => {
    const findings = scanTool(entry.tool);
    return {
      class: entry.class,
      source: entry.source,
      name: entry.tool.name,
      caught: findings.length > 0,
      rules: [...new Set(findings.map((finding) => finding.rule))],
    };
  });
  const classes = [...new Set(results.map((result) => result.class))].map((name) => {
    const of = results.filter((result) => result.class === name);
    return { class: name, total: of.length, caught: of.filter((result) => result.caught).length };
  });
  return { file, total: results.length, caught: results.filter((result) => result.caught).length, classes, results };
}

/** The report as a person reads it. */
export function formatScanReport(report: ScanReport): string {
  const lines = [
    `benign tools scanned  ${report.tools} (${report.catalogs.join(', ')}) in ${report.scanMs.toFixed(0)} ms`,
    `held back             ${report.flagged} (${(report.falsePositiveRate * 100).toFixed(2)}% false positives)`,
    `by rule               ${
      Object.entries(report.byRule)
        .map(([rule, count]) => `${rule} ${count}`)
        .join(', ') || 'none'
    }`,
  ];
  if (report.worst.length > 0) lines.push('', 'worst cases (most findings first):');
  for (const tool of report.worst) {
    lines.push(`  ${tool.name}`);
    for (const finding of tool.findings.slice(0, 3))
      lines.push(`    ${finding.rule.padEnd(20)} ${finding.field}: ${finding.span}`);
    if (tool.findings.length > 3) lines.push(`    … ${tool.findings.length - 3} more`);
  }
  if (report.attacks) {
    const { attacks } = report;
    lines.push('', `poisoned definitions caught  ${attacks.caught}/${attacks.total} (${attacks.file})`);
    for (const entry of attacks.classes) lines.push(`  ${entry.class.padEnd(24)} ${entry.caught}/${entry.total}`);
    for (const missed of attacks.results.filter((result) => !result.caught))
      lines.push(`  missed: ${missed.class} ${missed.name}`);
  }
  return `${lines.join('\n')}\n`;
}
