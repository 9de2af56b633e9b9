/**
 * Small server-rendered SVG charts: no script, printable, readable by screen readers (role="img" with a
 * label, and every chart sits next to a table with the same numbers, so colour never carries meaning alone).
 */
import { html, type SafeHtml } from './html.js';

export interface Bar {
  label: string;
  value: number;
  /** A second, overlaid value (e.g. reached out of attempts), drawn darker. */
  part?: number;
}

const fmt = (n: number) => n.toLocaleString('nl-NL');

/** Horizontal bars, one row per label (long Dutch labels fit on the left). */
export function barChart(title: string, bars: Bar[], options: { partLabel?: string } = {}): SafeHtml {
  const rowHeight = 26;
  const labelWidth = 360;
  const barWidth = 360;
  const max = Math.max(1, ...bars.map((b) => b.value));
  const height = bars.length * rowHeight + 10;
  return html`<figure class="vs-chart">
    <figcaption>${title}</figcaption>
    <svg role="img" aria-label="${title}" viewBox="0 0 ${labelWidth + barWidth + 70} ${height}" width="100%" preserveAspectRatio="xMinYMin meet">
      ${bars.map((b, i) => {
        const y = i * rowHeight + 5;
        const w = Math.round((b.value / max) * barWidth);
        const pw = b.part === undefined ? 0 : Math.round((b.part / max) * barWidth);
        return html`<g>
          <text x="${labelWidth - 8}" y="${y + 16}" text-anchor="end" font-size="13">${b.label}</text>
          <rect x="${labelWidth}" y="${y + 3}" width="${Math.max(w, 1)}" height="18" fill="#8fb8de"></rect>
          ${b.part === undefined ? '' : html`<rect x="${labelWidth}" y="${y + 3}" width="${pw}" height="18" fill="#1d5a96"><title>${options.partLabel ?? ''}: ${fmt(b.part)}</title></rect>`}
          <text x="${labelWidth + Math.max(w, 1) + 6}" y="${y + 16}" font-size="13">${fmt(b.value)}${b.part === undefined ? '' : ` (${fmt(b.part)})`}</text>
        </g>`;
      })}
    </svg>
  </figure>`;
}

/** A line over labelled points (e.g. months), with the values written at each point. */
export function lineChart(title: string, points: Array<{ label: string; value: number }>): SafeHtml {
  const width = 760;
  const height = 220;
  const pad = { left: 40, right: 20, top: 20, bottom: 40 };
  const max = Math.max(1, ...points.map((p) => p.value));
  const step = points.length > 1 ? (width - pad.left - pad.right) / (points.length - 1) : 0;
  const xy = points.map((p, i) => ({
    ...p,
    x: pad.left + i * step,
    y: pad.top + (1 - p.value / max) * (height - pad.top - pad.bottom),
  }));
  return html`<figure class="vs-chart">
    <figcaption>${title}</figcaption>
    <svg role="img" aria-label="${title}" viewBox="0 0 ${width} ${height}" width="100%" preserveAspectRatio="xMinYMin meet">
      <line x1="${pad.left}" y1="${height - pad.bottom}" x2="${width - pad.right}" y2="${height - pad.bottom}" stroke="#555"></line>
      <polyline fill="none" stroke="#1d5a96" stroke-width="3" points="${xy.map((p) => `${p.x},${p.y}`).join(' ')}"></polyline>
      ${xy.map(
        (p) => html`<circle cx="${p.x}" cy="${p.y}" r="4" fill="#1d5a96"></circle>
          <text x="${p.x}" y="${p.y - 8}" text-anchor="middle" font-size="12">${fmt(p.value)}</text>
          <text x="${p.x}" y="${height - pad.bottom + 18}" text-anchor="middle" font-size="12">${p.label}</text>`,
      )}
    </svg>
  </figure>`;
}
