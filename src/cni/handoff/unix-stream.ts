// A minimal client stream over a unix socket for the plugin's one request to the agent. Loading `node:net` (and the
// `stream` machinery under it) costs a plugin process about 2.5 ms of its ~10 ms own work, so the stream is driven
// straight on Node's pipe_wrap/stream_wrap bindings; if those are missing or behave unexpectedly, `node:net` is used.
import { builtin, builtinNow } from '../builtin.js';
export interface StreamEvents {
  connect(): void;
  data(chunk: Buffer): void;
  /** The peer closed its side (EOF), or the connection ended. */
  end(): void;
  error(err: Error): void;
}

export interface UnixStream {
  write(text: string): void;
  /** Idempotent; no events follow it. */
  close(): void;
}

export type StreamImpl = 'binding' | 'net';

/** Which implementation `openUnixStream` would use: the binding unless CALICO_CNI_SOCKET_IMPL=net or it is absent. */
export function chooseStreamImpl(env: Record<string, string | undefined>): StreamImpl {
  if (env.CALICO_CNI_SOCKET_IMPL === 'net') return 'net';
  return pipeBindings() ? 'binding' : 'net';
}

/** Connects to `socketPath`; events arrive asynchronously (never from inside this call). */
export function openUnixStream(socketPath: string, on: StreamEvents, impl: StreamImpl): UnixStream {
  if (impl === 'binding') {
    const b = pipeBindings();
    if (b) {
      try {
        return bindingStream(b, socketPath, on);
      } catch {
        // An internal API that changed shape: the public one below serves instead.
      }
    }
  }
  return netStream(socketPath, on);
}

interface PipeHandle {
  connect(req: object, path: string): number;
  readStart(): number;
  writeUtf8String(req: object, text: string): number;
  close(cb?: () => void): void;
  /** Must always be a function: the binding aborts the process on anything else. */
  onread: (buf: ArrayBuffer | undefined) => void;
}
interface Bindings {
  Pipe: new (type: number) => PipeHandle;
  PipeConnectWrap: new () => { oncomplete?: (status: number) => void };
  WriteWrap: new () => { handle?: unknown; async?: boolean; oncomplete?: (status: number) => void };
  SOCKET: number;
  state: Int32Array;
  kReadBytesOrError: number;
  kArrayBufferOffset: number;
}

let cached: Bindings | null | undefined;

function pipeBindings(): Bindings | null {
  if (cached !== undefined) return cached;
  cached = null;
  try {
    const binding = (process as unknown as { binding(name: string): Record<string, unknown> }).binding;
    const pipe = binding('pipe_wrap');
    const stream = binding('stream_wrap');
    const b = {
      Pipe: pipe.Pipe,
      PipeConnectWrap: pipe.PipeConnectWrap,
      SOCKET: (pipe.constants as Record<string, unknown> | undefined)?.SOCKET,
      WriteWrap: stream.WriteWrap,
      state: stream.streamBaseState,
      kReadBytesOrError: stream.kReadBytesOrError,
      kArrayBufferOffset: stream.kArrayBufferOffset,
    };
    const shapeOk =
      typeof b.Pipe === 'function' &&
      typeof b.PipeConnectWrap === 'function' &&
      typeof b.WriteWrap === 'function' &&
      typeof b.SOCKET === 'number' &&
      b.state instanceof Int32Array &&
      typeof b.kReadBytesOrError === 'number' &&
      typeof b.kArrayBufferOffset === 'number';
    if (shapeOk) cached = b as Bindings;
  } catch {
    // No process.binding (e.g. --no-deprecation policies, other runtimes): use node:net.
  }
  return cached;
}

function errnoError(status: number, syscall: string, socketPath: string): Error {
  let name = `errno ${status}`;
  try {
    // Looked up only on failure: a successful hand-off does not load node:util.
    name = builtinNow<typeof import('node:util')>('node:util')?.getSystemErrorName(status) ?? name;
  } catch {
    // keep the number
  }
  const err = new Error(`${syscall} ${name} ${socketPath}`) as NodeJS.ErrnoException;
  err.code = name;
  err.errno = status;
  return err;
}

const ignoreRead = () => {};

// libuv's UV_EOF.
const UV_EOF = -4095;

function bindingStream(b: Bindings, socketPath: string, on: StreamEvents): UnixStream {
  const handle = new b.Pipe(b.SOCKET);
  let closed = false;
  // Write requests are kept referenced until libuv completes them.
  const pending = new Set<object>();
  const close = () => {
    if (closed) return;
    closed = true;
    handle.onread = ignoreRead;
    handle.close();
  };
  const fail = (err: Error) => {
    if (closed) return;
    close();
    on.error(err);
  };
  const req = new b.PipeConnectWrap();
  req.oncomplete = (status: number) => {
    if (closed) return;
    if (status < 0) return fail(errnoError(status, 'connect', socketPath));
    handle.onread = (buf) => {
      if (closed) return;
      const n = b.state[b.kReadBytesOrError]!;
      if (n > 0 && buf) {
        // Copied: the binding may reuse its read buffer.
        on.data(Buffer.from(Buffer.from(buf, b.state[b.kArrayBufferOffset]!, n)));
      } else if (n === UV_EOF) {
        close();
        on.end();
      } else if (n < 0) {
        fail(errnoError(n, 'read', socketPath));
      }
    };
    const r = handle.readStart();
    if (r < 0) return fail(errnoError(r, 'read', socketPath));
    on.connect();
  };
  const r = handle.connect(req, socketPath);
  if (r < 0) {
    // Reported asynchronously like net does, so callers see one event order whatever the failure.
    queueMicrotask(() => fail(errnoError(r, 'connect', socketPath)));
  }
  return {
    write(text: string) {
      if (closed) return;
      const w = new b.WriteWrap();
      w.handle = handle;
      w.async = false;
      w.oncomplete = (status: number) => {
        pending.delete(w);
        if (status < 0) fail(errnoError(status, 'write', socketPath));
      };
      pending.add(w);
      const e = handle.writeUtf8String(w, text);
      if (e < 0) {
        pending.delete(w);
        queueMicrotask(() => fail(errnoError(e, 'write', socketPath)));
      }
    },
    close,
  };
}

function netStream(socketPath: string, on: StreamEvents): UnixStream {
  let closed = false;
  let sock: import('node:net').Socket | undefined;
  const queued: string[] = [];
  const close = () => {
    closed = true;
    sock?.destroy();
  };
  // Loaded here, only when this fallback is used; the connection is opened on the next tick, as net does.
  void builtin<typeof import('node:net')>('node:net').then(
    ({ connect }) => {
      if (closed) return;
      const s = connect(socketPath);
      sock = s;
      s.on('connect', () => {
        if (!closed) on.connect();
      });
      s.on('data', (chunk: Buffer) => {
        if (!closed) on.data(chunk);
      });
      s.on('error', (err) => {
        if (closed) return;
        closed = true;
        s.destroy();
        on.error(err);
      });
      s.on('close', () => {
        if (closed) return;
        closed = true;
        on.end();
      });
      for (const t of queued.splice(0)) s.write(t);
    },
    (err: Error) => {
      if (!closed) {
        closed = true;
        on.error(err);
      }
    },
  );
  return {
    write(text: string) {
      if (closed) return;
      if (sock) sock.write(text);
      else queued.push(text);
    },
    close,
  };
}
