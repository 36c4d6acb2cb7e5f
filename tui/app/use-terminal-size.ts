// The terminal's size, following resizes. Outside a terminal (tests) it is the given default.

import { useEffect, useState } from 'react';
import { useStdout } from 'ink';

export interface Size { columns: number; rows: number }

export function useTerminalSize(fallback: Size = { columns: 100, rows: 40 }): Size {
  const { stdout } = useStdout();
  const read = (): Size => ({ columns: stdout.columns || fallback.columns, rows: stdout.rows || fallback.rows });
  const [size, setSize] = useState<Size>(read);
  useEffect(() => {
    const onResize = () => setSize(read());
    stdout.on('resize', onResize);
    return () => { stdout.off('resize', onResize); };
  }, [stdout]);
  return size;
}
