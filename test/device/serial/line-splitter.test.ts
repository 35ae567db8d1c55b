import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../../../device/serial/line-splitter.ts';

function collect(maxBytes: number) {
  const lines: string[] = [];
  const overflows: string[] = [];
  const splitter = new LineSplitter(maxBytes, {
    line: (b) => lines.push(b.toString('latin1')),
    overflow: (b) => overflows.push(b.toString('latin1')),
  });
  return { splitter, lines, overflows };
}

describe('LineSplitter', () => {
  it('joins lines split across chunks, byte by byte', () => {
    const { splitter, lines } = collect(64);
    for (const byte of Buffer.from('$A*00\r\nsecond\n\nthird')) splitter.push(Buffer.from([byte]));
    expect(lines).toEqual(['$A*00\r', 'second', '']);
    expect(splitter.takePartial().toString()).toBe('third');
    expect(splitter.takePartial().length).toBe(0);
  });

  it('reports a line longer than the bound once and drops it to the next newline', () => {
    const { splitter, lines, overflows } = collect(8);
    splitter.push(Buffer.from('0123456'));
    splitter.push(Buffer.from('789abc'));
    splitter.push(Buffer.from('def\nok\n0123456789\n'));
    expect(overflows).toEqual(['01234567', '01234567']);
    expect(lines).toEqual(['ok']);
  });

  it('forgets an overflowing partial line at takePartial', () => {
    const { splitter, lines, overflows } = collect(4);
    splitter.push(Buffer.from('too long without newline'));
    expect(splitter.takePartial().length).toBe(0);
    splitter.push(Buffer.from('ok\n'));
    expect(overflows).toHaveLength(1);
    expect(lines).toEqual(['ok']);
  });
});
