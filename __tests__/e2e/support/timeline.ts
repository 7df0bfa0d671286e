/** One event of a run, in seconds since the containers were started. */
export interface TimelineEvent {
  readonly atSeconds: number;
  readonly what: string;
}

/**
 * What happened when, from `docker run` of the first node: containers started → first API answer →
 * each node Ready → workloads ready. Printed at the end of the run (and on failure).
 */
export class Timeline {
  private startedAt = Date.now();
  private readonly events: TimelineEvent[] = [];

  /** Sets time zero: the moment the first node container is started. */
  start(): void {
    this.startedAt = Date.now();
  }

  /** Records an event now; returns its time in seconds. */
  mark(what: string): number {
    const atSeconds = Math.round((Date.now() - this.startedAt) / 100) / 10;
    this.events.push({ atSeconds, what });
    return atSeconds;
  }

  /** The seconds of the first event whose text starts with `prefix`, if any. */
  at(prefix: string): number | undefined {
    return this.events.find((e) => e.what.startsWith(prefix))?.atSeconds;
  }

  /** A table, one line per event. */
  render(title: string): string {
    return [`${title}`, ...this.events.map((e) => `  ${e.atSeconds.toFixed(1).padStart(7)} s  ${e.what}`)].join('\n');
  }
}
