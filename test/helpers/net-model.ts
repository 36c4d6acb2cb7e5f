// The LibOS network stack as the tests see it from outside: what a guest printed about itself
// (the net: accounting lines), an independent model of what a LibOS configured like the apps
// must do with each frame (answer it, or drop it and why), a check of one answer against its
// request, and tshark's verdict on a recorded capture's checksums. Shared by
// test/libos/net.test.ts and test/libos/placements.test.ts.

import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';

export const tshark = spawnSync('tshark', ['--version'], { encoding: 'utf8' }).status === 0;
/** The NIC's station address and the apps' IP address. */
export const NIC_MAC = [0x02, 0, 0, 0, 0, 0x01];
export const OUR_IP = [10, 0, 0, 1];

/** What the guest printed about itself. */
export interface GuestCounters {
  received: number; answered: number; delivered: number; dropped: number; ok: boolean;
  drops: Record<string, number>; nicDrops: Record<string, number>; nicReceived: number; iommuFaults: number;
}

export function counters(text: string): GuestCounters {
  const m = /^net: received (\d+) = answered (\d+) \+ delivered (\d+) \+ dropped (\d+) (ok|MISMATCH)$/m.exec(text);
  assert.ok(m, `no accounting line in:\n${text}`);
  const drops: Record<string, number> = {}, nicDrops: Record<string, number> = {};
  for (const d of text.matchAll(/^net: drop (\w+) (\d+) /gm)) drops[d[1]!] = Number(d[2]);
  for (const d of text.matchAll(/^nic: drop (\w+) (\d+)$/gm)) nicDrops[d[1]!] = Number(d[2]);
  const nic = /^nic: received (\d+) /m.exec(text);
  const io = /iommu fault messages (\d+)/.exec(text);
  return {
    received: Number(m![1]), answered: Number(m![2]), delivered: Number(m![3]), dropped: Number(m![4]), ok: m![5] === 'ok',
    drops, nicDrops, nicReceived: nic ? Number(nic[1]) : -1, iommuFaults: io ? Number(io[1]) : -1,
  };
}

// ---- the model: a reading of each frame independent of the LibOS ----------------------------

export type Verdict = { kind: 'udp' | 'icmp' | 'arp' } | { kind: 'drop'; reason: string };
export const be16 = (b: Uint8Array, i: number) => (b[i]! << 8) | b[i + 1]!;
export const eq = (a: ArrayLike<number>, b: ArrayLike<number>) => a.length === b.length && Array.from(a).every((x, i) => x === b[i]);

export function sum16(b: Uint8Array, from: number, to: number, sum = 0): number {
  for (let i = from; i < to; i += 2) sum += (b[i]! << 8) | (i + 1 < to ? b[i + 1]! : 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}
/** True when the one's-complement sum including the checksum field is 0xffff. */
export const sums = (b: Uint8Array, from: number, to: number, initial = 0) => sum16(b, from, to, initial) === 0xffff;
export function udpPseudo(f: Uint8Array, ip: number, len: number): number {
  return be16(f, ip + 12) + be16(f, ip + 14) + be16(f, ip + 16) + be16(f, ip + 18) + 17 + len;
}

/** What a LibOS configured like the app must do with frame f. */
export function verdict(f: Uint8Array, promisc: boolean, ports: number[] | 'any'): Verdict {
  const drop = (reason: string): Verdict => ({ kind: 'drop', reason });
  if (f.length < 14) return drop('eth_runt');
  const bcast = f.subarray(0, 6).every((x) => x === 0xff);
  if (!promisc && !bcast && !eq(f.subarray(0, 6), NIC_MAC)) return drop('eth_not_ours');
  const type = be16(f, 12);
  if (type === 0x0806) {
    const a = 14;
    if (f.length < a + 28 || be16(f, a) !== 1 || be16(f, a + 2) !== 0x0800 || f[a + 4] !== 6 || f[a + 5] !== 4) return drop('arp_malformed');
    if (be16(f, a + 6) !== 1) return drop('arp_not_request');
    if (eq(f.subarray(a + 14, a + 18), f.subarray(a + 24, a + 28))) return drop('arp_gratuitous');
    if (!promisc && !eq(f.subarray(a + 24, a + 28), OUR_IP)) return drop('arp_not_ours');
    return { kind: 'arp' };
  }
  if (type !== 0x0800) return drop('eth_type');
  const ip = 14, room = f.length - ip;
  if (room < 20) return drop('ip_short');
  if (f[ip]! >> 4 !== 4) return drop('ip_version');
  const ihl = (f[ip]! & 15) * 4, total = be16(f, ip + 2);
  if (ihl < 20 || ihl > room) return drop('ip_header_length');
  if (total < ihl) return drop('ip_header_length');
  if (total > room) return drop('ip_total_length');
  if (!sums(f, ip, ip + ihl)) return drop('ip_checksum');
  if ((be16(f, ip + 6) & 0x3fff) !== 0) return drop('ip_fragment');
  const dst = f.subarray(ip + 16, ip + 20), src = f.subarray(ip + 12, ip + 16);
  if (!promisc && !eq(dst, OUR_IP) && !dst.every((x) => x === 255)) return drop('ip_not_ours');
  if (src[0]! >= 224 || src.every((x) => x === 0)) return drop('ip_bad_source');
  const l4 = ip + ihl, n = total - ihl;
  if (f[ip + 9] === 1) {
    if (n < 8) return drop('icmp_short');
    if (!sums(f, l4, l4 + n)) return drop('icmp_checksum');
    if (f[l4] !== 8 || f[l4 + 1] !== 0) return drop('icmp_type');
    return { kind: 'icmp' };
  }
  if (f[ip + 9] !== 17) return drop('ip_proto');
  if (n < 8) return drop('udp_short');
  const ulen = be16(f, l4 + 4);
  if (ulen < 8 || ulen > n) return drop('udp_length');
  if (be16(f, l4 + 6) !== 0 && !sums(f, l4, l4 + ulen, udpPseudo(f, ip, ulen))) return drop('udp_checksum');
  if (ports !== 'any' && !ports.includes(be16(f, l4 + 2))) return drop('udp_no_port');
  return { kind: 'udp' };
}

/** Problems with `out` as the answer to `inp` (empty: a correct answer). */
export function checkAnswer(kind: 'udp' | 'icmp' | 'arp', inp: Uint8Array, out: Uint8Array, echoPort?: number): string[] {
  const bad: string[] = [];
  const want = (what: string, ok: boolean) => { if (!ok) bad.push(what); };
  if (kind === 'arp') {
    const a = 14;
    want('eth dst = asker', eq(out.subarray(0, 6), inp.subarray(a + 8, a + 14)));
    want('eth src = NIC', eq(out.subarray(6, 12), NIC_MAC));
    want('ARP reply', be16(out, a + 6) === 2 && be16(out, 12) === 0x0806);
    want('sha = NIC', eq(out.subarray(a + 8, a + 14), NIC_MAC));
    want('spa = asked', eq(out.subarray(a + 14, a + 18), inp.subarray(a + 24, a + 28)));
    want('target = asker', eq(out.subarray(a + 18, a + 28), inp.subarray(a + 8, a + 18)));
    return bad;
  }
  const ip = 14, ihl = (inp[ip]! & 15) * 4, total = be16(inp, ip + 2), l4 = ip + ihl;
  const oihl = (out[ip]! & 15) * 4, ol4 = ip + oihl;
  want('length', out.length === Math.max(60, (echoPort ? ip + 20 + (be16(inp, l4 + 4)) : ip + total)));
  if (echoPort) {
    want('eth dst = sender', eq(out.subarray(0, 6), inp.subarray(6, 12)));
    want('eth src = NIC', eq(out.subarray(6, 12), NIC_MAC));
  } else {
    want('MACs swapped', eq(out.subarray(0, 6), inp.subarray(6, 12)) && eq(out.subarray(6, 12), inp.subarray(0, 6)));
  }
  want('IPs swapped', eq(out.subarray(ip + 12, ip + 16), inp.subarray(ip + 16, ip + 20)) &&
    eq(out.subarray(ip + 16, ip + 20), inp.subarray(ip + 12, ip + 16)));
  want('IPv4 header checksum', sums(out, ip, ip + oihl));
  if (kind === 'icmp') {
    const n = total - ihl;
    want('echo reply', out[l4] === 0 && out[l4 + 1] === 0);
    want('ICMP body unchanged', eq(out.subarray(l4 + 4, l4 + n), inp.subarray(l4 + 4, l4 + n)));
    want('ICMP checksum', sums(out, l4, l4 + n));
    return bad;
  }
  const ulen = be16(inp, l4 + 4);
  want('ports swapped', be16(out, ol4) === be16(inp, l4 + 2) && be16(out, ol4 + 2) === be16(inp, l4));
  want('UDP length', be16(out, ol4 + 4) === ulen);
  want('payload unchanged', eq(out.subarray(ol4 + 8, ol4 + ulen), inp.subarray(l4 + 8, l4 + ulen)));
  want('UDP checksum present and right', be16(out, ol4 + 6) !== 0 && sums(out, ol4, ol4 + ulen, udpPseudo(out, ip, ulen)));
  return bad;
}

/** Frames whose IPv4, UDP or ICMP checksum tshark calls bad; a string if tshark failed. */
export function tsharkBadChecksums(file: string): number | string {
  const r = spawnSync('tshark', ['-r', file, '-o', 'ip.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE',
    '-Y', 'ip.checksum_bad.expert || udp.checksum.bad || icmp.checksum_bad || ip.checksum.status == 0 || udp.checksum.status == 0',
    '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8' });
  if (r.status !== 0) return `tshark -r ${file} exited ${r.status}: ${r.stderr}`;
  return r.stdout.split('\n').filter((l) => l.trim() !== '').length;
}
