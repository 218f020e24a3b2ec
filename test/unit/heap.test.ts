import { describe, expect, it } from 'vitest';
import { applyHeapGrowing, DEFAULT_HEAP_GROWING_PERCENT, HEAP_GROWING_ENV } from '../../src/cli/heap.js';

function decide(env: NodeJS.ProcessEnv, execArgv: string[] = []) {
  const set: string[] = [];
  const result = applyHeapGrowing({ env, execArgv, setFlags: (flags) => set.push(flags) });
  return { result, set };
}

describe('applyHeapGrowing', () => {
  it('sets the default growing factor when nothing else is said', () => {
    const { result, set } = decide({});
    expect(result).toEqual({ percent: DEFAULT_HEAP_GROWING_PERCENT, source: 'default' });
    expect(set).toEqual([`--heap-growing-percent=${DEFAULT_HEAP_GROWING_PERCENT}`]);
  });

  it('takes the percentage from the environment, and 0 leaves V8 alone', () => {
    expect(decide({ [HEAP_GROWING_ENV]: '75' })).toEqual({
      result: { percent: 75, source: 'env' },
      set: ['--heap-growing-percent=75'],
    });
    expect(decide({ [HEAP_GROWING_ENV]: ' 0 ' })).toEqual({ result: { source: 'env' }, set: [] });
  });

  it("leaves a heap limit the user gave node alone, in node's arguments or NODE_OPTIONS", () => {
    expect(decide({}, ['--max-old-space-size=512'])).toEqual({ result: { source: 'node-flags' }, set: [] });
    expect(decide({ NODE_OPTIONS: '--enable-source-maps --heap_growing_percent=10' })).toEqual({
      result: { source: 'node-flags' },
      set: [],
    });
    // Unrelated node flags do not count.
    expect(decide({ NODE_OPTIONS: '--enable-source-maps' }, ['--import', 'tsx']).set).toHaveLength(1);
  });

  it('refuses a value that is not an integer from 0 to 400, naming the variable and the range', () => {
    for (const bad of ['fast', '-5', '12.5', '401']) {
      expect(() => decide({ [HEAP_GROWING_ENV]: bad })).toThrow(
        new RegExp(`${HEAP_GROWING_ENV} is "${bad.replace('.', '\\.')}": expected an integer from 0 to 400`),
      );
    }
  });
});
