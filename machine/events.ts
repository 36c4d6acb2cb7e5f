// The discrete-event queue of the machine, in cycles. Events are plain records (time, owner,
// kind, argument), not closures, so that a snapshot can save the pending ones and a restore
// can put them back. Ties are broken by insertion order: the same run orders them the same.

/** Something that receives events: a device, a local APIC, the machine itself. */
export interface EventOwner {
  /** Stable identifier, used to find the owner again after a snapshot is restored. */
  readonly eventId: number;
  onEvent(kind: number, arg: number, at: number): void;
}

export interface PendingEvent {
  at: number;
  seq: number;
  owner: number;
  kind: number;
  arg: number;
}

export class EventQueue {
  private heap: PendingEvent[] = [];
  /** Records of fired or cancelled events, reused by schedule(): no allocation per event. */
  private spare: PendingEvent[] = [];
  private seq = 0;
  private readonly owners = new Map<number, EventOwner>();
  /** Events fired so far. */
  fired = 0;
  /** The time of the event being fired, or -1 outside runUntil(). */
  firing = -1;

  register(owner: EventOwner): void {
    if (this.owners.has(owner.eventId)) throw new Error(`event owner ${owner.eventId} registered twice`);
    this.owners.set(owner.eventId, owner);
  }

  /** Schedule `kind` for `owner` at absolute cycle `at`. Returns a handle for cancel(). */
  schedule(at: number, owner: EventOwner, kind: number, arg = 0): number {
    const e = this.spare.pop() ?? { at: 0, seq: 0, owner: 0, kind: 0, arg: 0 };
    e.at = at; e.seq = this.seq++; e.owner = owner.eventId; e.kind = kind; e.arg = arg;
    this.push(e);
    return e.seq;
  }

  /** Cancel a pending event by handle; false if it already fired or never existed. */
  cancel(handle: number): boolean {
    const k = this.heap.findIndex((e) => e.seq === handle);
    if (k < 0) return false;
    const gone = this.heap[k], last = this.heap.pop()!;
    if (k < this.heap.length) {
      this.heap[k] = last;
      this.down(k);
      this.up(k);
    }
    this.spare.push(gone);
    return true;
  }

  /** Time of the earliest pending event, or +Infinity. */
  next(): number {
    return this.heap.length > 0 ? this.heap[0].at : Number.POSITIVE_INFINITY;
  }

  get size(): number { return this.heap.length; }

  /** Fire every event due at or before `now`, in (time, insertion) order. */
  runUntil(now: number): void {
    while (this.heap.length > 0 && this.heap[0].at <= now) {
      const e = this.pop(), at = e.at, kind = e.kind, arg = e.arg, id = e.owner;
      this.spare.push(e); // nothing holds an event record once it is off the heap
      this.fired++;
      const owner = this.owners.get(id);
      if (owner === undefined) throw new Error(`event for unknown owner ${id}`);
      this.firing = at;
      try {
        owner.onEvent(kind, arg, at);
      } finally {
        this.firing = -1;
      }
    }
  }

  saveState(): { seq: number; fired: number; events: PendingEvent[] } {
    return { seq: this.seq, fired: this.fired, events: this.heap.map((e) => ({ ...e })) };
  }

  loadState(s: { seq: number; fired: number; events: PendingEvent[] }): void {
    this.seq = s.seq;
    this.fired = s.fired;
    this.heap = [];
    for (const e of s.events) this.push({ ...e });
  }

  private less(a: PendingEvent, b: PendingEvent): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }
  private push(e: PendingEvent): void {
    this.heap.push(e);
    this.up(this.heap.length - 1);
  }
  private pop(): PendingEvent {
    const top = this.heap[0];
    const last = this.heap.pop()!;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.down(0);
    }
    return top;
  }
  private up(k: number): void {
    const h = this.heap;
    while (k > 0) {
      const p = (k - 1) >> 1;
      if (!this.less(h[k], h[p])) break;
      const t = h[k]; h[k] = h[p]; h[p] = t;
      k = p;
    }
  }
  private down(k: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * k + 1, r = l + 1;
      let m = k;
      if (l < h.length && this.less(h[l], h[m])) m = l;
      if (r < h.length && this.less(h[r], h[m])) m = r;
      if (m === k) break;
      const t = h[k]; h[k] = h[m]; h[m] = t;
      k = m;
    }
  }
}
