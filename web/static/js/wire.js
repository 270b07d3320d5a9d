// The wire protocol, mirroring server/wire.go: one websocket per open notebook, JSON text
// frames {"type", "req"?, "data"}. The message types are listed once here and the server's
// messages are dispatched by one switch (dispatch). Keep both in step with wire.go.

// Client → server message types.
export const ToServer = Object.freeze({
  cellEdit: "cell:edit", // {cell, source}: the whole new source
  cellInsert: "cell:insert", // {index, type, source, id?}
  cellDelete: "cell:delete", // {cell}
  cellMove: "cell:move", // {cell, index}: index after the move
  cellSetType: "cell:set_type", // {cell, type}
  cellRun: "cell:run", // {cells}: queued in this order
  cellClear: "cell:clear", // {cells}: [] clears every cell
  cellCancel: "cell:cancel", // {cell}: cancel what it owns on the loop
  cellFormat: "cell:format", // {cell}
  kernelInterrupt: "kernel:interrupt", // no payload
  kernelRestart: "kernel:restart", // {run_all}
  loopControl: "loop:control", // LoopControl: pause, resume, step, slow motion, virtual time
});

// Server → client message types.
export const FromServer = Object.freeze({
  nbState: "nb:state", // NbState {path, readonly, cells, kernel, saved}
  nbSaved: "nb:saved", // {at}
  cellUpdated: "cell:updated", // Cell
  cellInserted: "cell:inserted", // {index, cell}
  cellDeleted: "cell:deleted", // {cell}
  cellMoved: "cell:moved", // {cell, index}
  cellQueued: "cell:queued", // {cell}
  cellStarted: "cell:started", // {cell, count}
  cellOutput: "cell:output", // {cell, count, output}; output.truncated, .bytes, .elided: the kernel cut the run's output
  cellDisplay: "cell:display", // {display_id, output}
  cellDone: "cell:done", // {cell, count, status, elapsed}: elapsed in s, measured by the server
  cellOwned: "cell:owned", // {cell, count, owned: {tasks, timers, watchers, ready}}
  cellCleared: "cell:cleared", // {cells}
  background: "background:output", // Output that no cell owns
  kernelStatus: "kernel:status", // {state, cause?}
  notice: "notice", // {cell?, count?, text}
  error: "error", // {message}; env.req names the failed request
  loopFrame: "loop:frame", // a kernel.Frame: what the shared loop did since the last frame
  loopRecording: "loop:recording", // Recording: the frames recorded with the notebook
});

// dispatch hands one server message to the handler method made for it. h has one method per
// server message type; the request id (for error) is the second argument.
export function dispatch(env, h) {
  const d = env.data || {};
  switch (env.type) {
    case FromServer.nbState: return h.nbState(d);
    case FromServer.nbSaved: return h.nbSaved(d);
    case FromServer.cellUpdated: return h.cellUpdated(d);
    case FromServer.cellInserted: return h.cellInserted(d);
    case FromServer.cellDeleted: return h.cellDeleted(d);
    case FromServer.cellMoved: return h.cellMoved(d);
    case FromServer.cellQueued: return h.cellQueued(d);
    case FromServer.cellStarted: return h.cellStarted(d);
    case FromServer.cellOutput: return h.cellOutput(d);
    case FromServer.cellDisplay: return h.cellDisplay(d);
    case FromServer.cellDone: return h.cellDone(d);
    case FromServer.cellOwned: return h.cellOwned(d);
    case FromServer.cellCleared: return h.cellCleared(d);
    case FromServer.background: return h.background(d);
    case FromServer.kernelStatus: return h.kernelStatus(d);
    case FromServer.notice: return h.notice(d);
    case FromServer.error: return h.error(d, env.req);
    case FromServer.loopFrame: return h.loopFrame(d);
    case FromServer.loopRecording: return h.loopRecording(d);
    default:
      console.warn("loopbook: unknown message type", env.type);
  }
}

// Connection is the notebook's websocket. It reconnects by itself with exponential backoff
// (0.25 s doubling to 10 s, with jitter); the server sends nb:state on every connect, which
// replaces the client's state. onStatus gets "connecting", "open" or "closed" (with the delay
// before the next attempt, in ms).
export class Connection {
  constructor(url, { onMessage, onStatus }) {
    this.url = url;
    this.onMessage = onMessage;
    this.onStatus = onStatus;
    this.ws = null;
    this.attempt = 0;
    this.timer = null;
    this.stopped = false;
    this.nextReq = 1;
  }

  get open() {
    return this.ws != null && this.ws.readyState === WebSocket.OPEN;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.ws) this.ws.close();
  }

  // retryNow skips the wait before the next attempt.
  retryNow() {
    if (this.open || this.stopped) return;
    clearTimeout(this.timer);
    this.attempt = 0;
    this.connect();
  }

  connect() {
    this.onStatus("connecting");
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (e) {
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    let opened = 0;
    ws.onopen = () => {
      opened = performance.now();
      this.onStatus("open");
    };
    ws.onmessage = (ev) => {
      let env;
      try {
        env = JSON.parse(ev.data);
      } catch {
        console.warn("loopbook: a message that is not JSON", ev.data);
        return;
      }
      this.onMessage(env);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      // A connection that lasted resets the backoff.
      if (opened && performance.now() - opened > 5000) this.attempt = 0;
      if (!this.stopped) this.scheduleRetry();
    };
  }

  scheduleRetry() {
    const base = Math.min(10_000, 250 * 2 ** this.attempt);
    const delay = Math.round(base * (0.75 + Math.random() * 0.5));
    this.attempt++;
    this.onStatus("closed", delay);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  // send sends one message and returns its request id, or null when not connected.
  send(type, data) {
    if (!this.open) return null;
    const req = String(this.nextReq++);
    const env = { type, req };
    if (data !== undefined) env.data = data;
    this.ws.send(JSON.stringify(env));
    return req;
  }
}
