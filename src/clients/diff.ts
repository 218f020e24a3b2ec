/** A unified diff of two texts, for `--dry-run`: small files, so a plain LCS table is enough. */

/** Lines of `before` and `after` as a unified diff with `context` lines around each change; '' when equal. */
export function unifiedDiff(before: string, after: string, options: { from: string; to: string; context?: number }): string {
  if (before === after) return '';
  const a = before === '' ? [] : before.replace(/\n$/, '').split('\n');
  const b = after === '' ? [] : after.replace(/\n$/, '').split('\n');
  const lcs = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const ops: { kind: ' ' | '-' | '+'; line: string }[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      ops.push({ kind: ' ', line: a[i]! });
      i++;
      j++;
    } else if (j < b.length && (i >= a.length || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) {
      ops.push({ kind: '+', line: b[j++]! });
    } else {
      ops.push({ kind: '-', line: a[i++]! });
    }
  }
  const context = options.context ?? 3;
  const changes = ops.flatMap((op, index) => (op.kind === ' ' ? [] : [index]));
  // Changes closer than 2×context unchanged lines share one hunk.
  const groups: [number, number][] = [];
  for (const index of changes) {
    const last = groups.at(-1);
    if (last !== undefined && index - last[1] <= 2 * context + 1) last[1] = index;
    else groups.push([index, index]);
  }
  const out = [`--- ${options.from}`, `+++ ${options.to}`];
  for (const [first, last] of groups) {
    const start = Math.max(0, first - context);
    const end = Math.min(ops.length, last + context + 1);
    const before = ops.slice(0, start);
    const hunk = ops.slice(start, end);
    const count = (list: typeof ops, skip: '-' | '+') => list.filter((op) => op.kind !== skip).length;
    const aLen = count(hunk, '+');
    const bLen = count(hunk, '-');
    out.push(
      `@@ -${count(before, '+') + (aLen > 0 ? 1 : 0)},${aLen} +${count(before, '-') + (bLen > 0 ? 1 : 0)},${bLen} @@`,
      ...hunk.map((op) => `${op.kind}${op.line}`),
    );
  }
  return `${out.join('\n')}\n`;
}
