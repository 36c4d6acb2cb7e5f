// The TUI (DESIGN section 6): a title bar, seven panels, a key line, and the help, fault-menu
// and filter overlays. The simulation runs elsewhere (a worker) and sends snapshots; keys go
// back as messages. Input only when stdin supports raw mode, so a non-TTY run still renders.

import React, { useEffect, useRef, useState } from 'react';
import { Box, Text, useApp, useInput, useStdin, type Key } from 'ink';
import type { SystemSnapshot } from '../../kernel/system.js';
import { FAULTS } from '../../kernel/faults.js';
import { DEFAULT_SPEED, keyAction, speedText, SPEEDS_US, type Action } from '../keymap.js';
import type { SimClient, SimStart, ToSim } from '../sim/protocol.js';
import { CapsPanel, ChartsPanel, ConsolePanel, CoresPanel, EventLogPanel, IommuPanel, NicPanel, PANEL_TITLES, capIds } from './panels.js';

/** Frames a new capability stays marked `+` in its panel (about a second at 30 frames/s). */
const CAP_MARK_FRAMES = 30;
/** Rows the fault menu takes (the catalogue, its description, target and status lines). */
const FAULT_MENU_ROWS = 26;
import { FAULT_MENU_WIDTH, FaultMenu, HelpOverlay, LabsOverlay, faultTargets } from './overlays.js';
import { LABS } from '../../apps/labs/index.js';
import { labText } from '../lab-command.js';
import { simTime } from './format.js';
import { color, noColor } from './theme.js';
import { useTerminalSize, type Size } from './use-terminal-size.js';

export const MIN_SIZE: Size = { columns: 80, rows: 24 };

type Overlay = null | 'help' | 'faults' | 'filter' | 'labs';

export interface AppProps {
  sim: SimClient;
  start: SimStart;
  /** Fixed size (tests); otherwise the terminal's, following resizes. */
  size?: Size;
  mono?: boolean;
  /** Told once when the TUI ends: 0 quit, 2 bad input. */
  onExit?: (code: number, message?: string) => void;
}

export function App({ sim, start, size: fixed, mono = noColor(), onExit }: AppProps) {
  const { exit } = useApp();
  const { isRawModeSupported } = useStdin();
  const measured = useTerminalSize();
  const size = fixed ?? measured;
  const [snap, setSnap] = useState<SystemSnapshot | null>(null);
  const [paused, setPaused] = useState(false);
  const [speed, setSpeed] = useState(DEFAULT_SPEED);
  const [focus, setFocus] = useState(0);
  const [overlay, setOverlay] = useState<Overlay>(null);
  const [filter, setFilter] = useState('');
  const [faultIndex, setFaultIndex] = useState(0);
  const [targetIndex, setTargetIndex] = useState(0);
  const [lastFault, setLastFault] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [labIndex, setLabIndex] = useState(0);
  const [labRunning, setLabRunning] = useState<string | null>(null);
  const [labResult, setLabResult] = useState<{ name: string; lines: string[] } | null>(null);
  // Pause, step and speed messages sent (see the snapshot's `controls`).
  const controlsSent = useRef(0);
  // The fault menu's entry its key chose last (-1: none): that key again injects it.
  const armedKey = useRef(-1);
  // The capability ids of recent frames: a capability absent from the oldest is marked new.
  const capHistory = useRef<Set<number>[]>([]);

  useEffect(() => {
    const off = sim.onMessage((m) => {
      if (m.type === 'snapshot') {
        const h = capHistory.current;
        h.push(capIds(m.snapshot));
        if (h.length > CAP_MARK_FRAMES) h.shift();
        setSnap(m.snapshot);
        // A snapshot taken before the simulation saw the last pause or speed key would undo it
        // on the screen (and the next p would then toggle the wrong way).
        if (m.controls >= controlsSent.current) {
          live.current.paused = m.paused; live.current.speed = m.speedIndex;
          setPaused(m.paused); setSpeed(m.speedIndex);
        }
      }
      else if (m.type === 'lab-result') {
        setLabRunning(null);
        setLabResult({ name: m.name, lines: m.result !== null ? labText(m.result).trimEnd().split('\n') : [`${m.name}: ${m.error}`] });
      }
      else if (m.type === 'fault-result') setLastFault(`${m.request.kind}: ${m.outcome.applied ? '' : 'refused: '}${m.outcome.detail}`);
      else if (m.type === 'error') {
        setError(m.message);
        if (m.input) { onExit?.(2, m.message); void sim.close().then(() => exit()); }
      }
    });
    sim.send({ type: 'start', start });
    return off;
  }, [sim]);
  // Committed: Ink draws it now, and the worker may send the next.
  useEffect(() => { if (snap !== null) sim.send({ type: 'drawn' }); }, [snap]);

  // Ink may still hold the previous render's input handler when a key arrives right after a
  // state change, so the handler reads the state from this ref, never from its closure.
  const live = useRef({ snap, paused, speed, focus, overlay, filter, faultIndex, targetIndex, labIndex, labRunning });
  live.current = { snap, paused, speed, focus, overlay, filter, faultIndex, targetIndex, labIndex, labRunning };

  const control = (m: ToSim) => { controlsSent.current++; sim.send(m); };
  const quit = () => { onExit?.(0); void sim.close().then(() => exit()); };

  const injectSelected = (i: number) => {
    const f = FAULTS[i]!, st = live.current;
    const targets = faultTargets(f, st.snap);
    const target = targets.length ? targets[st.targetIndex % targets.length] : undefined;
    sim.send({ type: 'fault', request: { kind: f.kind, target, params: {}, origin: 'menu' } });
  };

  const act = (a: Action) => {
    const st = live.current;
    const setOv = (o: Overlay) => { live.current.overlay = o; setOverlay(o); };
    switch (a.type) {
      case 'quit': quit(); break;
      case 'help': setOv('help'); break;
      case 'back': if (st.overlay === 'filter' || st.overlay === null) setFilter(''); setOv(null); break;
      case 'pause': { const v = !st.paused; control({ type: 'pause', paused: v }); live.current.paused = v; setPaused(v); break; }
      case 'step': control({ type: 'step' }); live.current.paused = true; setPaused(true); break;
      case 'faster': { const v = Math.min(SPEEDS_US.length - 1, st.speed + 1); live.current.speed = v; setSpeed(v); control({ type: 'speed', index: v }); break; }
      case 'slower': { const v = Math.max(0, st.speed - 1); live.current.speed = v; setSpeed(v); control({ type: 'speed', index: v }); break; }
      case 'focus-next': setFocus((st.focus + 1) % PANEL_TITLES.length); live.current.focus = (st.focus + 1) % PANEL_TITLES.length; break;
      case 'focus-prev': { const v = (st.focus + PANEL_TITLES.length - 1) % PANEL_TITLES.length; live.current.focus = v; setFocus(v); break; }
      case 'jump': live.current.focus = a.panel; setFocus(a.panel); break;
      case 'filter': setOv('filter'); setFocus(5); break;
      case 'faults': setOv('faults'); setLastFault(null); live.current.targetIndex = 0; setTargetIndex(0); armedKey.current = -1; break;
      case 'labs': setOv('labs'); break;
    }
  };

  // A terminal hands over keys that arrive together as one chunk ("++", two Tabs): outside the
  // filter's text, each is a key of its own.
  useInput((input, key) => {
    if (input.length > 1 && live.current.overlay !== 'filter' && !key.ctrl && !key.meta && /^[\x20-\x7e\t]+$/.test(input)) {
      for (const c of input) onKey(c, c === '\t' ? { ...key, tab: true } : key);
      return;
    }
    onKey(input, key);
  }, { isActive: isRawModeSupported === true });

  function onKey(input: string, key: Key): void {
    const st = live.current;
    if (st.overlay === 'filter' && !key.escape && !(key.ctrl && input === 'c')) {
      if (key.return) { live.current.overlay = null; setOverlay(null); }
      else if (key.backspace || key.delete) { live.current.filter = st.filter.slice(0, -1); setFilter(live.current.filter); }
      else if (input && !key.ctrl && !key.meta) { live.current.filter = st.filter + input; setFilter(live.current.filter); }
      return;
    }
    if (st.overlay === 'help' && input === '?') { live.current.overlay = null; setOverlay(null); return; }
    if (st.overlay === 'labs' && !key.escape && !(key.ctrl && input === 'c')) {
      if (key.upArrow) { live.current.labIndex = (st.labIndex + LABS.length - 1) % LABS.length; setLabIndex(live.current.labIndex); }
      else if (key.downArrow) { live.current.labIndex = (st.labIndex + 1) % LABS.length; setLabIndex(live.current.labIndex); }
      else if (key.return && st.labRunning === null) {
        const name = LABS[st.labIndex % LABS.length]!.name;
        live.current.labRunning = name; setLabRunning(name); setLabResult(null);
        sim.send({ type: 'lab', name });
      }
      return;
    }
    if (st.overlay === 'faults' && !key.escape && !(key.ctrl && input === 'c')) {
      // Another fault starts from its first target (the targets of two faults differ in kind).
      const choose = (i: number, byKey = false) => {
        live.current.faultIndex = i; setFaultIndex(i);
        live.current.targetIndex = 0; setTargetIndex(0);
        armedKey.current = byKey ? i : -1;
      };
      if (key.upArrow) choose((st.faultIndex + FAULTS.length - 1) % FAULTS.length);
      else if (key.downArrow) choose((st.faultIndex + 1) % FAULTS.length);
      else if (key.rightArrow) { live.current.targetIndex = st.targetIndex + 1; setTargetIndex(live.current.targetIndex); }
      else if (key.leftArrow) { live.current.targetIndex = Math.max(0, st.targetIndex - 1); setTargetIndex(live.current.targetIndex); }
      else if (key.return) injectSelected(st.faultIndex);
      else {
        // A fault's key chooses it and shows its target; the same key again injects it. Only a
        // fault its key chose is armed: the one under the cursor when the menu opened is not.
        const i = FAULTS.findIndex((f) => f.key === input);
        if (i >= 0 && i === st.faultIndex && armedKey.current === i) injectSelected(i);
        else if (i >= 0) choose(i, true);
      }
      return;
    }
    const a = keyAction(input, key, st.overlay !== null);
    if (a) act(a);
  }

  if (size.columns < MIN_SIZE.columns || size.rows < MIN_SIZE.rows) {
    return <Text>{`The terminal is ${size.columns}x${size.rows}; exolab needs at least ${MIN_SIZE.columns}x${MIN_SIZE.rows}. Enlarge it, or run with --headless.`}</Text>;
  }
  if (snap === null) {
    return <Text>{error ? `exolab: ${error}` : `Starting ${start.scenario}... (the first run builds its guests with gcc: a few seconds)`}</Text>;
  }

  const W = size.columns, body = size.rows - 2;
  const coresH = Math.min(snap.cores.length + 4, Math.floor(body * 0.35));
  const rest = body - coresH, rowH = Math.floor(rest / 3), lastH = rest - 2 * rowH;
  const half = Math.floor(W / 2);
  const fr = (i: number, width: number, height: number) => ({ width, height, focused: focus === i, mono });
  const done = snap.stopped !== null;
  const prevCaps = capHistory.current.length > 1 ? capHistory.current[0]! : null;

  return (
    <Box flexDirection="column" width={W} height={size.rows}>
      <Text wrap="truncate">
        <Text bold color={color('title', mono)}>
          {`exolab  ${snap.scenario.name}  ${simTime(snap.now, snap.clockHz)} / ${simTime(snap.runFor, snap.clockHz)}  seed ${snap.scenario.seed}  ${speedText(SPEEDS_US[speed]!)}  `}
        </Text>
        {paused && !done ? <Text inverse bold color={color('warn', mono)}> PAUSED </Text> : null}
        {done ? <Text inverse bold color={color('ok', mono)}>{` DONE (${snap.stopped}) `}</Text> : null}
        {error ? <Text color={color('bad', mono)}>{`  ${error}`}</Text> : null}
      </Text>
      {overlay === 'help' ? <HelpOverlay width={W} mono={mono} />
        : overlay === 'labs' ? <LabsOverlay index={labIndex} running={labRunning} result={labResult} width={W} mono={mono} />
        : overlay === 'faults' ? (
          // The cores stay in sight above the menu, and the event log beside it, when there is
          // room: a fault's effect shows at once.
          <Box flexDirection="column">
            {size.rows >= coresH + FAULT_MENU_ROWS ? <CoresPanel s={snap} {...fr(0, W, coresH)} /> : null}
            <Box>
              <FaultMenu index={faultIndex} targetIndex={targetIndex} snapshot={snap} width={W} mono={mono} last={lastFault} />
              {W - FAULT_MENU_WIDTH >= 40
                ? <EventLogPanel s={snap} filter="" {...fr(5, W - FAULT_MENU_WIDTH, Math.min(FAULT_MENU_ROWS, body - (size.rows >= coresH + FAULT_MENU_ROWS ? coresH : 0)))} />
                : null}
            </Box>
          </Box>
        )
          : (
            <Box flexDirection="column">
              <CoresPanel s={snap} {...fr(0, W, coresH)} />
              <Box><NicPanel s={snap} {...fr(1, half, rowH)} /><IommuPanel s={snap} {...fr(2, W - half, rowH)} /></Box>
              <Box><ChartsPanel s={snap} {...fr(3, half, rowH)} /><CapsPanel s={snap} filter={filter} seen={prevCaps} {...fr(4, W - half, rowH)} /></Box>
              <Box><EventLogPanel s={snap} filter={filter} {...fr(5, half, lastH)} /><ConsolePanel s={snap} {...fr(6, W - half, lastH)} /></Box>
            </Box>
          )}
      <Text wrap="truncate" color={color('dim', mono)}>
        {overlay === 'filter' ? `filter: ${filter}_  (Enter keeps it, Esc clears)`
          : `[${focus + 1}] ${PANEL_TITLES[focus]}  |  q quit  ? help  p pause  s step  +/- speed  Tab focus  1-7 panels  / filter  f faults  L labs`}
      </Text>
    </Box>
  );
}
