import { randomBytes } from 'node:crypto';

/**
 * Rich output for the tslab kernel: one display message carrying several MIME
 * types (JupyterLab picks the richest it can render, static viewers such as
 * nbconvert's HTML or GitHub pick the SVG), and displays that update in place.
 *
 * tslab's public `display.raw(mime, data)` sends one MIME type per message, so
 * showing a plot as Vega-Lite *and* SVG would print it twice in JupyterLab. The
 * writer that can send a whole bundle is internal to tslab
 * (`tslab/dist/jupyter`.lastWriteDisplayData, set for every executed cell); this
 * module is the only place that touches it, and test/display.test.ts checks it.
 */

export type MimeBundle = Record<string, unknown>;

interface DisplayMessage {
  data: MimeBundle;
  metadata: Record<string, unknown>;
  transient: { display_id?: string };
}

type DisplayWriter = (message: DisplayMessage, update: boolean) => void;

function kernelWriter(): DisplayWriter {
  let jupyter: { lastWriteDisplayData?: unknown };
  try {
    // resolved from dist/, this is the same module instance the running kernel uses
    jupyter = require('tslab/dist/jupyter');
  } catch (e) {
    throw new Error(`rich display needs the tslab kernel: cannot load tslab/dist/jupyter (${(e as Error).message})`);
  }
  const writer = jupyter.lastWriteDisplayData;
  if (typeof writer !== 'function') {
    throw new Error('rich display works only inside a cell running in the tslab kernel (tslab has no display writer yet)');
  }
  return writer as DisplayWriter;
}

/** True when called from a cell of the tslab kernel. */
export function inKernel(): boolean {
  try {
    kernelWriter();
    return true;
  } catch {
    return false;
  }
}

/** Show one output holding every MIME type of the bundle. */
export function displayBundle(data: MimeBundle): void {
  kernelWriter()({ data, metadata: {}, transient: {} }, false);
}

/**
 * An output area that later calls overwrite (update_display_data), for charts
 * and tables that follow a stream.
 */
export class LiveDisplay {
  private readonly id = randomBytes(8).toString('hex');
  private shown = false;
  /** how many times this display has been drawn */
  updates = 0;

  show(data: MimeBundle): void {
    kernelWriter()({ data, metadata: {}, transient: { display_id: this.id } }, this.shown);
    this.shown = true;
    this.updates++;
  }
}

export function newLiveDisplay(): LiveDisplay {
  return new LiveDisplay();
}

/** An HTML bundle with a plain-text fallback for consoles. */
export function htmlBundle(html: string, text: string): MimeBundle {
  return { 'text/html': html, 'text/plain': text };
}
