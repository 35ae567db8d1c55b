/** Errors that the daemon survives: counted, the first few kept verbatim for the summary and status. */
export class ErrorLog {
  private n = 0;
  private readonly firstMessages: string[] = [];

  constructor(private readonly keep = 10) {}

  add(message: string): void {
    this.n++;
    if (this.firstMessages.length < this.keep) this.firstMessages.push(message);
  }

  get count(): number {
    return this.n;
  }

  summary(): { count: number; first: string[] } {
    return { count: this.n, first: [...this.firstMessages] };
  }
}
