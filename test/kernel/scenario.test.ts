// Scenario files: the built-ins load; every kind of mistake is one InputError naming
// file:line:col and what was expected (JSON Schema shape first, then units and meaning).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { InputError } from '../../machine/errors.js';
import { builtinScenarios, loadScenario, parseComparison, parseScenario } from '../../kernel/scenario.js';
import { FAULTS } from '../../kernel/faults.js';

const GOOD = `name: t
seed: 3
machine:
  cores: 2
  ram: 16MiB
  nic: { queues: 2, wire: loop }
  boot_image: ../../../apps/scenarios/images/bare-demo.c
faults:
  - { at: 1ms, kind: ipi-lost, target: 1, count: 2 }
  - { at: 2ms, kind: irq-storm, target: 0, vector: 0x41, count: 10, spacing: 1us, every: 1ms, times: 2 }
run: { for: 5ms }
expect:
  - { metric: cores.0.interrupts, is: ">= 1" }
  - { metric: nic.dropped.ring_full, is: 0 }
`;

const here = new URL('.', import.meta.url).pathname; // dist/test/kernel/

function parse(text: string, over = {}) {
  return parseScenario(text, 'x.yaml', here, over);
}

function error(text: string): string {
  try {
    parse(text);
  } catch (e) {
    assert.instance(e, InputError);
    return (e as Error).message;
  }
  throw new Error('expected an InputError');
}

test('a good scenario: units, faults in cycles, expectations parsed', () => {
  const s = parse(GOOD);
  assert.is(s.name, 't');
  assert.is(s.seed, 3);
  assert.is(s.machine.ramBytes, 16 << 20);
  assert.is(s.runFor, 10_000_000); // 5 ms at 2 GHz
  assert.equal(s.faults.map((f) => [f.at, f.kind, f.target]), [[2_000_000, 'ipi-lost', 1], [4_000_000, 'irq-storm', 0]]);
  assert.is(s.faults[0]!.params.count, 2);
  assert.is(s.faults[1]!.params.spacing, 2000);
  assert.is(s.faults[1]!.every, 2_000_000);
  assert.is(s.faults[1]!.times, 2);
  assert.equal(s.expect.map((e) => [e.metric, e.op, e.value]), [['cores.0.interrupts', '>=', 1], ['nic.dropped.ring_full', '==', 0]]);
  assert.is(s.expect[0]!.where, 'x.yaml:13:5');
});

test('command-line overrides: --seed, --for, --wire, --record', () => {
  const s = parse(GOOD, { seed: '9', for: '1ms', wire: 'gen:rate=1000/s', record: '/tmp/x.pcap' });
  assert.is(s.seed, 9);
  assert.is(s.runFor, 2_000_000);
  assert.is(s.machine.nic!.wire, 'gen:rate=1000/s+record:/tmp/x.pcap');
});

test('every built-in scenario loads', () => {
  const names = builtinScenarios();
  assert.ok(names.includes('demo'), names.join(','));
  for (const n of names) assert.is(loadScenario(n).name, n);
});

// [name, text, the message's pattern]: each must name the line and column.
const BAD: [string, string, RegExp][] = [
  ['YAML syntax', 'name: t\nmachine: { cores: 2\n', /^x\.yaml:\d+:\d+: YAML syntax/],
  ['an unknown key, with a suggestion', GOOD.replace('  ram: 16MiB', '  rum: 16MiB'), /^x\.yaml:5:3: unknown key 'rum' in machine; did you mean 'ram'\?/],
  ['a missing required key', 'name: t\nmachine: { cores: 1, boot_image: a.c }\n', /^x\.yaml:1:1: missing key 'run'/],
  ['a wrong type', GOOD.replace('cores: 2', 'cores: two'), /^x\.yaml:4:10: machine\.cores: expected a number of cores from 1 to 64, got "two"/],
  ['too many cores', GOOD.replace('cores: 2', 'cores: 65'), /^x\.yaml:4:10: machine\.cores: expected a number of cores from 1 to 64, got 65/],
  ['a bad placement', GOOD + 'principals:\n  - { name: a, image: reflector, placement: exx }\n', /^x\.yaml:16:\d+: principals\[0\]\.placement: expected one of exo, mono, unikernel, got "exx"; did you mean exo\?/],
  ['a bad size unit', GOOD.replace('16MiB', '16MiBs'), /^x\.yaml:5:8: machine\.ram: /],
  ['a bad time', GOOD.replace('for: 5ms', 'for: 5parsecs'), /^x\.yaml:11:13: run\.for: /],
  ['an unknown fault kind', GOOD.replace('kind: ipi-lost', 'kind: ipi-lots'), /^x\.yaml:9:\d+: faults\[0\]\.kind: unknown fault 'ipi-lots'; did you mean ipi-lost\?/],
  ['a fault parameter the kind lacks', GOOD.replace('count: 2 }', 'counts: 2 }'), /^x\.yaml:9:\d+: unknown key 'counts' in faults\[0\] \(ipi-lost\); did you mean 'count'\?/],
  ['a fault on a core that does not exist', GOOD.replace('target: 1, count', 'target: 7, count'), /^x\.yaml:9:\d+: faults\[0\]\.target: core 7 does not exist: the machine has 2/],
  ['a fault on a principal that does not exist', GOOD.replace('kind: ipi-lost, target: 1', 'kind: kill, target: bob'), /faults\[0\]\.target: no principal 'bob'; the scenario has none/],
  ['a bad comparison', GOOD.replace('is: ">= 1"', 'is: "about 1"'), /^x\.yaml:13:\d+: expect\[0\]\.is: expected a comparison such as "== 4"/],
  ['a metric with an unknown root', GOOD.replace('metric: cores.0', 'metric: core.0'), /^x\.yaml:13:\d+: expect\[0\]\.metric: .*did you mean cores\?/],
  ['a metric of a missing core', GOOD.replace('metric: cores.0', 'metric: cores.5'), /core 5 does not exist/],
  ['a principal core out of range', GOOD + 'principals:\n  - { name: a, image: reflector, cores: [0, 9] }\n', /^x\.yaml:16:\d+: principals\[0\]\.cores\[1\]: core 9 does not exist/],
  ['two principals of one name', GOOD + 'principals:\n  - { name: a, image: reflector }\n  - { name: a, image: reflector }\n', /^x\.yaml:17:\d+: principals\[1\]\.name: a second principal named 'a'/],
  ['a NIC queue without a NIC', GOOD.replace('  nic: { queues: 2, wire: loop }\n', '') + 'principals:\n  - { name: a, image: reflector, nic_queues: [0] }\n', /the machine has no NIC/],
  ['times without every', GOOD.replace('count: 2 }', 'count: 2, times: 3 }'), /times needs every/],
  ['a missing boot image', GOOD.replace('bare-demo.c', 'nope.c'), /^x\.yaml:7:15: machine\.boot_image: no such file/],
  ['two owners of one NIC queue', GOOD + 'principals:\n  - { name: a, image: reflector, nic_queues: [0] }\n  - { name: b, image: reflector, cores: [1], nic_queues: [0] }\n', /^x\.yaml:17:\d+: principals\[1\]\.nic_queues\[0\]: NIC queue 0 is already a's: a queue has one owner/],
  ['a partition sharing a core', GOOD + 'principals:\n  - { name: a, image: reflector }\n  - { name: u, image: reflector, placement: unikernel, cores: [0] }\n', /^x\.yaml:17:\d+: principals\[1\]\.cores\[0\]: core 0 is also a's: a unikernel principal needs whole cores/],
  ['a core listed twice', GOOD + 'principals:\n  - { name: a, image: reflector, cores: [1, 1] }\n', /^x\.yaml:16:\d+: principals\[0\]\.cores\[1\]: core 1 is listed twice/],
  ['an irq mode for a partition', GOOD + 'principals:\n  - { name: u, image: reflector, placement: unikernel, irq: ipi }\n', /^x\.yaml:16:\d+: principals\[0\]\.irq: irq modes are the exokernel's/],
  ['args.value not a number', GOOD + 'principals:\n  - { name: a, image: reflector, args: { value: lots } }\n', /^x\.yaml:16:\d+: principals\[0\]\.args\.value: expected a whole number, got "lots"/],
];

for (const [name, text, pattern] of BAD) {
  test(`bad scenario: ${name}`, () => {
    const msg = error(text);
    assert.match(msg, pattern, msg);
    assert.not.match(msg, /\n/, 'one line');
  });
}

test('bad overrides are named by their flag', () => {
  assert.throws(() => parse(GOOD, { seed: '-1' }), /^--seed: /);
  assert.throws(() => parse(GOOD, { for: 'soon' }), /^--for: /);
});

test('unknown built-in name: the list and a suggestion', () => {
  assert.throws(() => loadScenario('demoo'), /demoo: no such scenario: .*did you mean demo\?/);
});

test('comparisons', () => {
  assert.equal(parseComparison('== 4'), { op: '==', value: 4 });
  assert.equal(parseComparison('>=1.5'), { op: '>=', value: 1.5 });
  assert.equal(parseComparison('3'), { op: '==', value: 3 });
  assert.equal(parseComparison('< -2e3'), { op: '<', value: -2000 });
  assert.is(parseComparison('~ 4'), null);
});

test('the fault catalogue: unique kinds and menu keys, every kind described', () => {
  assert.is(new Set(FAULTS.map((f) => f.kind)).size, FAULTS.length);
  assert.is(new Set(FAULTS.map((f) => f.key)).size, FAULTS.length);
  for (const f of FAULTS) assert.ok(f.description.length > 20 && f.title.length > 3, f.kind);
  for (const k of ['revoke', 'kill', 'msi-drop', 'msi-duplicate', 'mask-vector', 'nic-stall', 'unsafe-unmap', 'iommu-passthrough', 'pf-storm', 'irq-storm', 'ipi-lost', 'dma-bitflip', 'malicious-map']) {
    assert.ok(FAULTS.some((f) => f.kind === k), k);
  }
});

test.run();
