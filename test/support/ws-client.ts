/** A real `ws` client with the few waits the WebSocket suites need: open, next message, close. */
import WebSocket from 'ws';

export interface WsClient {
  socket: WebSocket;
  /** Resolves with the close code and reason, whenever the socket closes (before or after the call). */
  closed: Promise<{ code: number; reason: string; at: number }>;
  send(event: string, data?: unknown): void;
  /** The next message's parsed JSON, or rejects when the socket closes first. */
  next(): Promise<{ event: string; data: unknown }>;
}

export async function openWs(url: string, headers: Record<string, string> = {}): Promise<WsClient> {
  const socket = new WebSocket(url, { headers });
  const messages: string[] = [];
  const waiting: Array<{ resolve: (text: string) => void; reject: (error: Error) => void }> = [];
  const closed = new Promise<{ code: number; reason: string; at: number }>((resolve) => {
    socket.on('close', (code, reason) => {
      resolve({ code, reason: reason.toString(), at: performance.now() });
      for (const waiter of waiting.splice(0)) waiter.reject(new Error(`socket closed with ${code}`));
    });
  });
  socket.on('message', (data) => {
    const waiter = waiting.shift();
    if (waiter) waiter.resolve(data.toString());
    else messages.push(data.toString());
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
    socket.once('unexpected-response', (_request, response) => reject(new Error(`handshake answered ${response.statusCode}`)));
  });
  return {
    socket,
    closed,
    send: (event, data) => socket.send(JSON.stringify({ event, data })),
    next: () =>
      new Promise((resolve, reject) => {
        const queued = messages.shift();
        if (queued !== undefined) resolve(JSON.parse(queued));
        else if (socket.readyState !== WebSocket.OPEN) reject(new Error('socket is not open'));
        else waiting.push({ resolve: (text) => resolve(JSON.parse(text)), reject });
      }),
  };
}

/** The ws:// URL of a listening Nest app. */
export function wsUrl(app: { getHttpServer(): { address(): unknown } }, path: string): string {
  const { port } = app.getHttpServer().address() as { port: number };
  return `ws://127.0.0.1:${port}${path}`;
}
