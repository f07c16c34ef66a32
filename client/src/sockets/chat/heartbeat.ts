// Keeps an open socket honest: a ping after a quiet while, and a restart when nothing answers.
import type { Clock } from '../reconnectingSocket';

export const PING_INTERVAL_MS = 25_000;
/** No frame at all this long after a ping: the connection is dead. */
export const PONG_TIMEOUT_MS = 10_000;

export class Heartbeat {
  private pingTimer: unknown = null;
  private pongTimer: unknown = null;

  /** `ping` sends a ping (false when the socket is not open); `dead` is called when it goes unanswered. */
  constructor(
    private readonly clock: Clock,
    private readonly ping: () => boolean,
    private readonly dead: () => void,
  ) {}

  /** The socket opened: the next ping is due after a quiet interval. */
  start(): void {
    this.stop();
    this.pingTimer = this.clock.setTimeout(() => {
      this.pingTimer = null;
      if (!this.ping()) return;
      this.pongTimer = this.clock.setTimeout(() => {
        this.pongTimer = null;
        this.dead();
      }, PONG_TIMEOUT_MS);
    }, PING_INTERVAL_MS);
  }

  /** Any frame proves the connection alive. */
  alive(): void {
    if (this.pongTimer !== null) {
      this.clock.clearTimeout(this.pongTimer);
      this.pongTimer = null;
    }
    if (this.pingTimer === null) this.start();
  }

  stop(): void {
    if (this.pingTimer !== null) this.clock.clearTimeout(this.pingTimer);
    if (this.pongTimer !== null) this.clock.clearTimeout(this.pongTimer);
    this.pingTimer = this.pongTimer = null;
  }
}
