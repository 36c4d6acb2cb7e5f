// The files a headless run writes: the JSON report (tui/report.schema.json), JUnit XML (one
// testcase per expectation, for CI dashboards) and the Chrome trace (Perfetto opens it). All
// three are functions of the simulation alone: no host time, no host names.

import { writeFileSync, statSync, accessSync, constants } from 'node:fs';
import { dirname } from 'node:path';
import { InputError } from '../machine/errors.js';
import type { Report } from '../kernel/system.js';

/** Fail before the run, not after it, when an output file could not be written. */
export function checkOutput(flag: string, path: string): void {
  let st;
  try { st = statSync(path); } catch { st = null; }
  if (st?.isDirectory()) throw new InputError(`--${flag}: ${path} is a directory, expected a file name`);
  const dir = dirname(path);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new InputError(`--${flag}: cannot write in ${dir} (missing or not writable)`);
  }
}

export function writeOutput(flag: string, path: string, text: string): void {
  try {
    writeFileSync(path, text);
  } catch (e) {
    throw new InputError(`--${flag}: cannot write ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

export function reportJson(r: Report): string {
  return JSON.stringify(r, null, 2) + '\n';
}

function xml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
    // XML 1.0 has no place for most control characters (a guest's console may hold some).
    .replace(/[\x00-\x08\x0b\x0c\x0e-\x1f]/g, '\ufffd');
}

/** JUnit XML: a testsuite per scenario, a testcase per expectation. */
export function junitXml(r: Report): string {
  const failures = r.expectations.filter((e) => !e.passed).length;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="exolab" tests="${r.expectations.length}" failures="${failures}" errors="0" time="${r.run.seconds}">`,
    `  <testsuite name="${xml(r.scenario.name)}" tests="${r.expectations.length}" failures="${failures}" errors="0" skipped="0" time="${r.run.seconds}">`,
    '    <properties>',
    `      <property name="scenario" value="${xml(r.scenario.file)}"/>`,
    `      <property name="seed" value="${r.scenario.seed}"/>`,
    `      <property name="simulated_cycles" value="${r.run.cycles}"/>`,
    `      <property name="stopped_by" value="${xml(r.run.stopped_by)}"/>`,
    '    </properties>',
  ];
  for (const e of r.expectations) {
    const name = `${e.metric} ${e.is}`;
    const head = `    <testcase classname="${xml(r.scenario.name)}" name="${xml(name)}" time="0">`;
    const props = [
      '      <properties>',
      `        <property name="metric" value="${xml(e.metric)}"/>`,
      `        <property name="wanted" value="${xml(`${e.wanted.op} ${e.wanted.value}`)}"/>`,
      `        <property name="measured" value="${e.measured === null ? 'missing' : e.measured}"/>`,
      '      </properties>',
    ];
    if (e.passed) {
      lines.push(head, ...props, '    </testcase>');
    } else {
      const msg = `${e.metric}: wanted ${e.wanted.op} ${e.wanted.value}, measured ${e.measured === null ? 'nothing' : e.measured}`;
      lines.push(head, ...props, `      <failure message="${xml(msg)}" type="expectation">${xml(`${e.message}\n(${e.where})`)}</failure>`, '    </testcase>');
    }
  }
  lines.push('  </testsuite>', '</testsuites>');
  return lines.join('\n') + '\n';
}

/** The summary a headless run prints: one line per expectation, then the verdict. */
export function summaryLines(r: Report, color: boolean): string[] {
  const paint = (code: number, s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const out = [`${r.scenario.name}: ${+(r.run.seconds * 1000).toPrecision(12)} ms simulated, ${r.run.instructions} instructions, stopped by ${r.run.stopped_by}, seed ${r.scenario.seed}`];
  for (const f of r.faults) out.push(`  fault ${f.kind}${f.target !== null ? ` ${f.target}` : ''} at cycle ${f.at}: ${f.applied ? '' : 'refused: '}${f.detail}`);
  for (const e of r.expectations) {
    const mark = e.passed ? paint(32, 'ok  ') : paint(31, 'FAIL');
    out.push(`  ${mark} ${e.metric} ${e.is}  (measured ${e.measured === null ? 'nothing' : e.measured})${e.passed ? '' : `  ${e.where}`}`);
    if (!e.passed && e.measured === null) out.push(`       ${e.message}`);
  }
  const failed = r.expectations.filter((e) => !e.passed).length;
  out.push(r.expectations.length === 0 ? 'no expectations'
    : failed === 0 ? paint(32, `${r.expectations.length} expectation(s) held`)
      : paint(31, `${failed} of ${r.expectations.length} expectation(s) failed`));
  return out;
}
