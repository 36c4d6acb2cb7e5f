// Describes how two program outputs differ, for test failure messages: the first differing
// line of each, with its number, and the line counts.

function lines(buf: Uint8Array): string[] {
  return Buffer.from(buf).toString('latin1').split('\n');
}

/** undefined when the outputs are byte-for-byte equal */
export function describeOutputDiff(wantName: string, want: Uint8Array, gotName: string, got: Uint8Array): string | undefined {
  if (Buffer.from(want).equals(Buffer.from(got))) return undefined;
  const a = lines(want), b = lines(got);
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const show = (l: string | undefined) => (l === undefined ? '(end of output)' : JSON.stringify(l));
  const width = Math.max(wantName.length, gotName.length) + 1;
  return [
    `output differs at line ${i + 1}:`,
    `  ${(wantName + ':').padEnd(width)} ${show(a[i])}`,
    `  ${(gotName + ':').padEnd(width)} ${show(b[i])}`,
    `  (${wantName} ${want.length} bytes in ${a.length} lines, ${gotName} ${got.length} bytes in ${b.length} lines)`,
  ].join('\n');
}
