import type { RequestFacts, ResponseSink } from '../../core/session-cookie.js';
import { requestFacts } from '../http-adapter.js';

/** The close code for "your session is over or was never valid": 4000-4999 are the application's (RFC 6455 §7.4.2), 4401 reads as 401. */
export const SESSION_CLOSE_CODE = 4401;
/** A cross-site handshake with cookies (cross-site WebSocket hijacking), as 403. */
export const CROSS_SITE_CLOSE_CODE = 4403;
/** RFC 6455 "Internal Error": a handshake the module could not check (a bug or a misconfiguration, logged). */
export const INTERNAL_ERROR_CLOSE_CODE = 1011;
/** RFC 6455 "Try Again Later": the session store did not answer. */
export const TRY_AGAIN_LATER_CLOSE_CODE = 1013;

/** The upgrade request as `ws` (IncomingMessage) and socket.io (`socket.request`) give it. */
export interface HandshakeRequest {
  headers: Record<string, string | string[] | undefined>;
  socket?: { encrypted?: boolean; remoteAddress?: string };
}

/**
 * The credential facts of a handshake: its cookies and Authorization header, as an HTTP request
 * of the same client would have them. Tokens are never read from the URL (ASVS 14.2.1).
 */
export function handshakeFacts(request: HandshakeRequest): RequestFacts {
  return requestFacts({
    headers: { ...request.headers },
    method: 'GET',
    protocol: request.socket?.encrypted ? 'https' : 'http',
    ip: request.socket?.remoteAddress,
  });
}

/** A socket has no response to set cookies on: a rotation during a message cannot reach the client. */
export const NO_RESPONSE: ResponseSink = { setCookie: () => undefined, preventCaching: () => undefined };

interface WsLike {
  readyState: number;
  close(code?: number, reason?: string): void;
}
interface SocketIoLike {
  disconnect(close?: boolean): void;
}

/** Closes a `ws` socket with a code and reason, or disconnects a socket.io one (which has no codes). */
export function closeSocket(client: unknown, code: number, reason: string): void {
  const socket = client as Partial<WsLike & SocketIoLike>;
  if (typeof socket.close === 'function' && typeof socket.readyState === 'number') socket.close(code, reason);
  else if (typeof socket.disconnect === 'function') socket.disconnect(true);
}

/** Subscribes to the first message of a `ws` socket (socket.io clients send their token in `handshake.auth`). */
export function firstMessage(client: unknown, timeoutMs: number): Promise<string | null> {
  const socket = client as { once?: (event: string, listener: (data: unknown) => void) => unknown; off?: (event: string, listener: (data: unknown) => void) => unknown };
  if (typeof socket.once !== 'function') return Promise.resolve(null);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      socket.off?.('message', onMessage);
      resolve(null);
    }, timeoutMs);
    const onMessage = (data: unknown) => {
      clearTimeout(timer);
      resolve(Buffer.isBuffer(data) ? data.toString('utf8') : typeof data === 'string' ? data : null);
    };
    socket.once!('message', onMessage);
  });
}

/**
 * The token of a first message `{"event":"authenticate","data":{"token":"..."}}`, for clients that
 * cannot set headers on a handshake (browsers cannot set Authorization on a WebSocket).
 */
export function tokenOfFirstMessage(text: string | null): string | null {
  if (text === null || text.length > 8192) return null;
  try {
    const message = JSON.parse(text) as { event?: unknown; data?: { token?: unknown } };
    const token = message?.event === 'authenticate' ? message.data?.token : undefined;
    return typeof token === 'string' && token.length > 0 ? token : null;
  } catch {
    return null;
  }
}
