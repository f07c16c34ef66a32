// My messages on their way: each is sent with its clientId, shown failed when the server does
// not accept it in time, and sent again (same clientId) when the socket comes back or on retry.
// One too big for a frame is shown failed at once, never sent (the server would close the
// socket on it, and each reconnect would send it again).
import type { ChatClientFrame, ClientId } from '../../api/types';
import { messageFailed, messageSending } from '../../features/chat/chatSlice';
import type { Clock } from '../reconnectingSocket';
import type { SocketDispatch, SocketRootState } from '../state';
import { fitsInFrame, sendFrame, TOO_LONG_TEXT } from './frameSize';

/** Without `accepted` this long after sending (socket open), the message is shown as failed. */
export const ACK_TIMEOUT_MS = 10_000;

export class Outbox {
  private readonly ackTimers = new Map<ClientId, unknown>();

  constructor(
    private readonly clock: Clock,
    private readonly dispatch: SocketDispatch,
    private readonly getState: () => SocketRootState,
    private readonly send: (frame: ChatClientFrame) => boolean,
  ) {}

  /** Puts one pending message on the wire, if the socket is open (else it stays queued); fails one too big for a frame. */
  transmit(clientId: ClientId): void {
    const p = this.getState().chat.pending[clientId];
    if (!p || p.status === 'accepted' || p.status === 'failed') return;
    const frame = sendFrame(p);
    if (!fitsInFrame(frame)) {
      this.dispatch(messageFailed({ clientId, error: TOO_LONG_TEXT }));
      return;
    }
    if (!this.send(frame)) return;
    this.dispatch(messageSending(clientId));
    this.settle(clientId);
    this.ackTimers.set(
      clientId,
      this.clock.setTimeout(() => {
        this.ackTimers.delete(clientId);
        this.dispatch(messageFailed({ clientId, error: 'Not confirmed by the server.' }));
      }, ACK_TIMEOUT_MS),
    );
  }

  /** Everything queued or interrupted, oldest first (the socket just opened). */
  flush(): void {
    const pending = Object.values(this.getState().chat.pending)
      .filter((p) => p.status === 'queued' || p.status === 'sending')
      .sort((a, b) => (a.createdAt < b.createdAt ? -1 : 1));
    for (const p of pending) this.transmit(p.clientId);
  }

  /** The server answered for this message (accepted, stored or refused): no more waiting. */
  settle(clientId: ClientId): void {
    const t = this.ackTimers.get(clientId);
    if (t !== undefined) this.clock.clearTimeout(t);
    this.ackTimers.delete(clientId);
  }

  /** The socket closed: nothing on it will be answered. */
  clear(): void {
    for (const t of this.ackTimers.values()) this.clock.clearTimeout(t);
    this.ackTimers.clear();
  }
}
