/** A binary min-heap of timed items; ties keep insertion order, so runs are deterministic. */
export interface Timed {
  readonly at: number;
  readonly seq: number;
}

export class Heap<T extends Timed> {
  private readonly a: T[] = [];

  get size(): number {
    return this.a.length;
  }

  private less(i: number, j: number): boolean {
    const x = this.a[i] as T;
    const y = this.a[j] as T;
    return x.at < y.at || (x.at === y.at && x.seq < y.seq);
  }

  private swap(i: number, j: number): void {
    const t = this.a[i] as T;
    this.a[i] = this.a[j] as T;
    this.a[j] = t;
  }

  push(item: T): void {
    this.a.push(item);
    let i = this.a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  pop(): T | undefined {
    const top = this.a[0];
    const last = this.a.pop();
    if (this.a.length && last !== undefined) {
      this.a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < this.a.length && this.less(l, m)) m = l;
        if (r < this.a.length && this.less(r, m)) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top;
  }

  peek(): T | undefined {
    return this.a[0];
  }
}
