// The browser's WebSocket as the unit tests play it (transport.test.mjs,
// tabs.test.mjs): it records what the class does to it, and the test calls
// open(), receive() and drop() for the browser's part.

/** Every socket the class opened, newest last. */
export const sockets = [];
export class FakeSocket {
  static CONNECTING = 0;
  static OPEN = 1;
  /** The next construction throws this (a browser's SyntaxError or SecurityError). */
  static refuseNext = null;
  constructor(url, protocols) {
    if (FakeSocket.refuseNext) {
      const error = FakeSocket.refuseNext;
      FakeSocket.refuseNext = null;
      throw error;
    }
    this.url = url;
    this.protocols = protocols;
    this.readyState = FakeSocket.CONNECTING;
    this.sent = [];
    this.closedWith = null;
    sockets.push(this);
  }
  send(data) {
    if (this.readyState !== FakeSocket.OPEN) throw new Error("InvalidStateError");
    this.sent.push(data);
  }
  close(code, reason) {
    this.closedWith = [code, reason];
    this.readyState = 3;
  }
  /** The browser's part: the connection opened. */
  open() {
    this.readyState = FakeSocket.OPEN;
    this.onopen?.();
  }
  /** The browser's part: a frame arrived. */
  receive(data) {
    this.onmessage?.({ data: typeof data === "string" ? data : JSON.stringify(data) });
  }
  /** The browser's part: the connection closed. */
  drop(code = 1006, reason = "", wasClean = false) {
    this.readyState = 3;
    this.onclose?.({ code, reason, wasClean });
  }
}
