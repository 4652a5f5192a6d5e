// One watch request: a chunked stream of JSON lines ({type, object}) following the datastore from a revision.
// In: store events for one resource (and namespace); out: ADDED/MODIFIED/DELETED filtered by label and field
// selectors (an object leaving the selection is DELETED), BOOKMARKs when asked, and an ERROR 410 Expired line
// (then end of stream) when the requested version was compacted away.
import type { ServerResponse } from 'node:http';
import type { Watch } from '../../datastore/index.js';
import type { KubeObject } from './admission.js';
import { apiVersionOf, type ServedResource } from './resources.js';
import { matchesFields, matchesLabels, type FieldRequirement, type LabelRequirement } from './selectors.js';
import { renderTable } from './table.js';
import { internalError, tooOldResourceVersion, type Status } from './status.js';
import type { KubeStore, ObjectEvent } from './storage.js';

export interface WatchRequest {
  res: ServedResource;
  namespace?: string;
  labels: LabelRequirement[];
  fields: FieldRequirement[];
  /** undefined / 0: start with synthetic ADDED events for the current state. */
  resourceVersion?: number;
  bookmarks: boolean;
  /** sendInitialEvents=true: finish the synthetic ADDED events with an initial-events-end BOOKMARK. */
  initialEventsEnd: boolean;
  timeoutMs: number;
  bookmarkIntervalMs: number;
  /** kubectl get -w: each event's object is a one-row Table (column definitions on the first only). */
  table?: boolean;
}

export class WatchStream {
  private dsWatch?: Watch;
  private timers: NodeJS.Timeout[] = [];
  private lastRevision = 0;
  /** Keys of objects this stream has reported as present (to word selector exits and unknown-history puts). */
  private readonly shown = new Set<string>();
  private ended = false;
  private tableHeaderSent = false;

  constructor(
    private readonly store: KubeStore,
    private readonly req: WatchRequest,
    private readonly out: ServerResponse,
    private readonly onEnd: (w: WatchStream) => void,
  ) {}

  async start(): Promise<void> {
    const { req, out } = this;
    out.writeHead(200, {
      'Content-Type': 'application/json',
      'Cache-Control': 'no-cache, private',
      'Transfer-Encoding': 'chunked',
    });
    out.flushHeaders();
    out.on('close', () => void this.end());
    let from: number;
    const list = await this.store.list(req.res, req.namespace);
    if (!req.resourceVersion) {
      for (const o of list.items) if (this.selected(o)) this.send('ADDED', o);
      from = list.revision + 1;
      this.lastRevision = list.revision;
      if (req.initialEventsEnd) this.bookmark({ 'k8s.io/initial-events-end': 'true' });
    } else {
      // The client holds the state at its version; what matches now is the best guess of what it holds.
      for (const o of list.items) if (this.selected(o)) this.shown.add(keyOf(o));
      from = req.resourceVersion + 1;
      this.lastRevision = req.resourceVersion;
    }
    if (this.ended) return;
    this.dsWatch = this.store.watch(req.res, req.namespace, from, (e) =>
      this.onEvent(e, req.resourceVersion ?? from - 1),
    );
    this.timers.push(setTimeout(() => void this.end(), req.timeoutMs));
    if (req.bookmarks) this.timers.push(setInterval(() => this.bookmark(), req.bookmarkIntervalMs));
  }

  private selected(o: KubeObject | undefined): boolean {
    return !!o && matchesLabels(this.req.labels, o.metadata.labels) && matchesFields(this.req.fields, o);
  }

  private onEvent(e: ObjectEvent, requested: number): void {
    if (this.ended) return;
    switch (e.type) {
      case 'put': {
        this.lastRevision = Math.max(this.lastRevision, e.revision);
        const now = this.selected(e.object);
        const before =
          e.previous === undefined ? this.shown.has(keyOf(e.object)) : this.selected(e.previous ?? undefined);
        // Entering the selection is ADDED, leaving it DELETED, as kube-apiserver's filtered watches report.
        if (now) this.send(before ? 'MODIFIED' : 'ADDED', e.object);
        else if (before) this.send('DELETED', e.object);
        break;
      }
      case 'delete':
        this.lastRevision = Math.max(this.lastRevision, e.revision);
        if (e.previous ? this.selected(e.previous) : false) {
          e.previous!.metadata.resourceVersion = String(e.revision);
          this.send('DELETED', e.previous!);
        }
        break;
      case 'resync-required':
        this.error(tooOldResourceVersion(requested, e.compactedRevision).status);
        break;
      case 'error':
        this.error(internalError(e.error.message).status);
        break;
    }
  }

  private send(type: string, object: KubeObject): void {
    if (this.ended) return;
    if (type === 'DELETED') this.shown.delete(keyOf(object));
    else this.shown.add(keyOf(object));
    if (this.req.table) {
      const table = renderTable(this.req.res.kind, [object], object.metadata.resourceVersion) as Record<
        string,
        unknown
      >;
      if (this.tableHeaderSent) table.columnDefinitions = [];
      this.tableHeaderSent = true;
      this.out.write(JSON.stringify({ type, object: table }) + '\n');
      return;
    }
    this.out.write(JSON.stringify({ type, object }) + '\n');
  }

  private bookmark(annotations?: Record<string, string>): void {
    if (this.ended) return;
    const { res } = this.req;
    this.out.write(
      JSON.stringify({
        type: 'BOOKMARK',
        object: {
          kind: res.kind,
          apiVersion: apiVersionOf(res),
          metadata: { resourceVersion: String(this.lastRevision), ...(annotations ? { annotations } : {}) },
        },
      }) + '\n',
    );
  }

  private error(status: Status): void {
    if (this.ended) return;
    this.out.write(JSON.stringify({ type: 'ERROR', object: status }) + '\n');
    void this.end();
  }

  /** Ends the stream (server shutdown, timeout, client gone, or an error already written). */
  async end(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
    this.onEnd(this);
    if (!this.out.writableEnded) this.out.end();
    await this.dsWatch?.close().catch(() => undefined);
  }
}

const keyOf = (o: KubeObject): string => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
