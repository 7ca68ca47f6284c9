import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { REPORT_SCRIPT } from './report-script';
import type { RunRecord } from './run-record';

/**
 * The charting library is Chart.js 4: one self-contained UMD file (about 200 KB minified, MIT),
 * canvas rendering with no runtime dependencies, so it inlines into a single HTML file that
 * works offline; its scatter, line and bar charts cover every plot here. (Vega-Lite would need
 * vega, vega-lite and vega-embed inlined, several times the size, for the same plots.)
 */
function chartJsSource(): string {
  const main = require.resolve('chart.js');
  return readFileSync(join(dirname(main), 'chart.umd.min.js'), 'utf8');
}

/** Inline script text must not close its own <script> element. */
function inlineScript(source: string): string {
  return source.replace(/<\/script/gi, '<\\/script');
}

/** JSON safe inside <script type="application/json">: no '<' that could start a closing tag. */
function inlineJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const STYLE = `
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 960px; color: #222; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: 0.2rem 1rem; }
dl.facts dt { font-weight: 600; } dl.facts dd { margin: 0; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
figure { margin: 1rem 0; display: inline-block; vertical-align: top; }
figcaption { font-size: 0.85rem; color: #555; max-width: 900px; }
p.note { color: #8a5a00; }
`;

/**
 * The whole report as one HTML document: Chart.js, the run record and the drawing script are
 * inline, and the content security policy allows nothing to be fetched, so it opens offline.
 */
export function renderReportHtml(record: RunRecord): string {
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">`,
    `<title>${escapeHtml(record.title)}</title>`,
    `<style>${STYLE}</style>`,
    `<script>${inlineScript(chartJsSource())}</script>`,
    '</head>',
    '<body>',
    '<main id="report"></main>',
    `<script type="application/json" id="run-record">${inlineJson(record)}</script>`,
    `<script>${inlineScript(REPORT_SCRIPT)}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
