import { uuidv7 } from '../lib/uuid';
import { realClock, type Clock, type SocketFactory } from './reconnectingSocket';

/** What the socket middlewares need from the outside world; tests pass fakes. */
export interface SocketDeps {
  create: SocketFactory;
  clock: Clock;
  random: () => number;
  uuid: () => string;
  /** Absolute ws:// or wss:// URL of a socket path on this site. */
  wsUrl: (path: string) => string;
}

export function browserDeps(): SocketDeps {
  return {
    create: (url) => new WebSocket(url),
    clock: realClock,
    random: Math.random,
    uuid: () => uuidv7(),
    wsUrl: (path) => `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${path}`,
  };
}
