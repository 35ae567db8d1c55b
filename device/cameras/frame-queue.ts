/**
 * A bounded queue between a live source and one consumer. `push` never waits: when the consumer is behind, the
 * oldest frame goes and is counted, because for a live stream the newest frame is the one worth processing and
 * capture must never stall on a slow stage.
 */
export class FrameQueue<T> implements AsyncIterable<T> {
  readonly capacity: number;
  // A plain array: capacities are a handful of frames, so shifting is cheaper than a ring buffer's bookkeeping.
  readonly #items: T[] = [];
  readonly #waiting: Array<(result: IteratorResult<T, undefined>) => void> = [];
  #pushed = 0;
  #dropped = 0;
  #closed = false;

  /** `onDrop` lets the owner free what a dropped item holds (a frame's pixels) at once rather than at GC. */
  constructor(
    capacity: number,
    private readonly onDrop?: (item: T) => void,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`frame queue capacity must be a positive integer, got ${capacity}`);
    }
    this.capacity = capacity;
  }

  /** Frames offered to this consumer, including those dropped. */
  get pushed(): number {
    return this.#pushed;
  }

  get dropped(): number {
    return this.#dropped;
  }

  get length(): number {
    return this.#items.length;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Adds a frame; returns false when the queue is closed (its consumer has gone), which is not an error. */
  push(item: T): boolean {
    if (this.#closed) return false;
    this.#pushed += 1;
    const waiter = this.#waiting.shift();
    if (waiter !== undefined) {
      waiter({ value: item, done: false });
      return true;
    }
    if (this.#items.length >= this.capacity) {
      const dropped = this.#items.shift() as T;
      this.#dropped += 1;
      this.onDrop?.(dropped);
    }
    this.#items.push(item);
    return true;
  }

  /** No more frames will come; the consumer still receives those already queued, then the iteration ends. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const waiter of this.#waiting.splice(0)) waiter({ value: undefined, done: true });
  }

  next(): Promise<IteratorResult<T, undefined>> {
    if (this.#items.length > 0) {
      return Promise.resolve({ value: this.#items.shift() as T, done: false });
    }
    if (this.#closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  [Symbol.asyncIterator](): AsyncIterator<T, undefined> {
    return {
      next: () => this.next(),
      // A consumer that breaks out of `for await` stops taking frames; closing lets the feeder skip it.
      return: () => {
        this.close();
        this.#items.length = 0;
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}

/**
 * Copies every frame of a source into each consumer's queue (the frame itself travels by reference) and closes
 * the queues when the source ends. Resolves when the source ends; rejects if the source throws.
 */
export async function feedQueues<T>(frames: AsyncIterable<T>, queues: readonly FrameQueue<T>[]): Promise<void> {
  try {
    for await (const frame of frames) {
      for (const queue of queues) queue.push(frame);
    }
  } finally {
    for (const queue of queues) queue.close();
  }
}
