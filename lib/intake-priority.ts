/**
 * Partners' deliveries first. While this process receives a delivery, its outbox dispatcher holds back new
 * hand-overs (cases already started go on), so on a small machine a month's intake gets the CPU it needs
 * and the partner has its answer in seconds; the cases start a moment later. A hold never lasts longer than
 * `MAX_HOLD_MS` in a row, so a steady stream of deliveries cannot stop the outreach.
 */

/** The longest the dispatcher waits for deliveries before it hands over again anyway. */
export const MAX_HOLD_MS = 20_000;

export class IntakePriority {
  private receiving = 0;
  private since = 0;

  /** Marks a delivery as being received; call the returned function when it has ended. */
  begin(): () => void {
    if (this.receiving === 0) this.since = Date.now();
    this.receiving += 1;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.receiving -= 1;
    };
  }

  /** Whether the dispatcher should wait now: a delivery is being received, and not for too long. */
  holding(now = Date.now()): boolean {
    return this.receiving > 0 && now - this.since < MAX_HOLD_MS;
  }
}
