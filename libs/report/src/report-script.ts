import { SCORE_TITLES } from './run-record';

/**
 * The report page's own script (browser JavaScript, run after Chart.js is loaded). It reads the
 * run record from the page's JSON block and draws the facts, the results table and every plot.
 * Charts are drawn without animation at a fixed size, so the page is complete once the script
 * has run (it then sets `data-rendered` on <body>).
 */
export const REPORT_SCRIPT = String.raw`
(function () {
  'use strict';
  var record = JSON.parse(document.getElementById('run-record').textContent);
  var main = document.getElementById('report');
  var palette = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
  var scoreTitles = ${JSON.stringify(SCORE_TITLES)};
  Chart.defaults.animation = false;
  Chart.defaults.responsive = false;
  Chart.defaults.font.family = 'system-ui, sans-serif';

  function element(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (className !== undefined) node.className = className;
    return node;
  }
  function colour(index) {
    return palette[index % palette.length];
  }
  function section(title) {
    var node = element('section');
    node.appendChild(element('h2', title));
    main.appendChild(node);
    return node;
  }
  function figure(parent, id, caption, width, height) {
    var holder = element('figure');
    var canvas = element('canvas');
    canvas.id = id;
    canvas.width = width || 900;
    canvas.height = height || 380;
    holder.appendChild(canvas);
    holder.appendChild(element('figcaption', caption));
    parent.appendChild(holder);
    return canvas;
  }
  function axis(title, extra) {
    var options = { title: { display: true, text: title } };
    for (var key in extra || {}) options[key] = extra[key];
    return options;
  }

  document.title = record.title;
  var accuracyName = record.accuracyName || 'top-1';
  main.appendChild(element('h1', record.title));
  var facts = element('dl', undefined, 'facts');
  record.facts.forEach(function (fact) {
    facts.appendChild(element('dt', fact[0]));
    facts.appendChild(element('dd', fact[1]));
  });
  main.appendChild(facts);

  var tableSection = section(record.table.title);
  var table = element('table');
  table.id = 'results-table';
  var head = element('thead');
  var headRow = element('tr');
  record.table.headers.forEach(function (cell) { headRow.appendChild(element('th', cell)); });
  head.appendChild(headRow);
  table.appendChild(head);
  var body = element('tbody');
  record.table.rows.forEach(function (cells) {
    var row = element('tr');
    cells.forEach(function (cell) { row.appendChild(element('td', cell)); });
    body.appendChild(row);
  });
  table.appendChild(body);
  tableSection.appendChild(table);

  if (record.config) {
    var configTable = element('table');
    configTable.id = 'config-table';
    var configHead = element('tr');
    configHead.appendChild(element('th', 'setting'));
    configHead.appendChild(element('th', 'value'));
    configTable.appendChild(configHead);
    Object.keys(record.config).forEach(function (key) {
      var value = record.config[key];
      var row = element('tr');
      row.appendChild(element('td', key));
      row.appendChild(element('td', Array.isArray(value) ? value.join(', ') : String(value)));
      configTable.appendChild(row);
    });
    section('Configuration').appendChild(configTable);
  }

  var accuracySection = section('Top-1 against FLOPs kept');
  new Chart(figure(accuracySection, 'chart-accuracy', record.kind === 'prune' ? 'Each point is a round (round 0: the input model).' : 'Each point is a target; dashed: after fine-tuning. Random: mean over its runs.'), {
    type: 'scatter',
    data: {
      datasets: record.accuracy.map(function (series, index) {
        return {
          label: series.label,
          data: series.points.map(function (point) { return { x: point.flopsKept * 100, y: point.top1 * 100, label: point.label }; }),
          showLine: true,
          borderColor: colour(series.colour === undefined ? index : series.colour),
          backgroundColor: colour(series.colour === undefined ? index : series.colour),
          borderDash: series.dashed ? [6, 4] : [],
          pointRadius: 4,
        };
      }),
    },
    options: {
      scales: { x: axis('FLOPs kept (%)'), y: axis(accuracyName + ' (%)') },
      plugins: { tooltip: { callbacks: { label: function (item) { return item.raw.label + ': ' + item.raw.y.toFixed(2) + '% ' + accuracyName + ', ' + item.raw.x.toFixed(1) + '% FLOPs'; } } } },
    },
  });

  var widthSection = section('Layer widths');
  record.widths.forEach(function (chart, chartIndex) {
    new Chart(figure(widthSection, 'chart-widths-' + chartIndex, chart.title), {
      type: 'bar',
      data: {
        labels: chart.layers,
        datasets: chart.series.map(function (series, index) {
          return { label: series.label, data: series.widths, backgroundColor: colour(index) };
        }),
      },
      options: { scales: { x: axis('layer'), y: axis('output channels', { beginAtZero: true }) } },
    });
  });

  var scoreSection = section('Scores of the last scoring pass');
  record.notes.forEach(function (note) { scoreSection.appendChild(element('p', note, 'note')); });
  var scoring = record.scoring;
  if (scoring) {
    scoreSection.appendChild(element('p', scoring.groups.length + ' groups of model ' + scoring.modelArtifactId.slice(0, 12) + (scoring.round === undefined ? '' : ' (scored in round ' + scoring.round + ')') + '; lambda = ' + scoring.lambda + '. Lower scores are removed first.'));
    var layers = [];
    scoring.groups.forEach(function (group) { if (layers.indexOf(group.layer) < 0) layers.push(group.layer); });
    var hasProscore = scoring.groups.some(function (group) { return typeof group.scores.proscore === 'number'; });
    if (hasProscore) {
      new Chart(figure(scoreSection, 'chart-proscore-l2', 'PROscore against L2 magnitude, one point per group, coloured by layer. PROscore +Infinity (kept for good) is not drawn.'), {
        type: 'scatter',
        data: {
          datasets: layers.map(function (layer, index) {
            return {
              label: layer,
              backgroundColor: colour(index),
              data: scoring.groups.filter(function (group) {
                return group.layer === layer && typeof group.scores.proscore === 'number' && typeof group.scores.l2 === 'number';
              }).map(function (group) { return { x: group.scores.l2, y: group.scores.proscore, id: group.id }; }),
            };
          }),
        },
        options: {
          scales: { x: axis('L2 magnitude ||F||'), y: axis('PROscore') },
          plugins: { tooltip: { callbacks: { label: function (item) { return item.raw.id + ': PROscore ' + item.raw.y.toPrecision(6) + ', L2 ' + item.raw.x.toPrecision(4); } } } },
        },
      });
    }
    Object.keys(scoreTitles).forEach(function (name, index) {
      var values = scoring.groups.map(function (group) { return group.scores[name]; }).filter(function (value) { return typeof value === 'number'; });
      if (values.length === 0) return;
      var low = Math.min.apply(null, values);
      var high = Math.max.apply(null, values);
      var bins = 30;
      var width = high > low ? (high - low) / bins : 1;
      var counts = new Array(bins).fill(0);
      values.forEach(function (value) { counts[Math.min(bins - 1, Math.floor((value - low) / width))] += 1; });
      var labels = counts.map(function (_, bin) { return (low + (bin + 0.5) * width).toPrecision(4); });
      new Chart(figure(scoreSection, 'chart-histogram-' + name, 'Histogram of ' + scoreTitles[name] + ' over ' + values.length + ' groups.', 440, 260), {
        type: 'bar',
        data: { labels: labels, datasets: [{ label: scoreTitles[name], data: counts, backgroundColor: colour(index), barPercentage: 1, categoryPercentage: 1 }] },
        options: { plugins: { legend: { display: false } }, scales: { x: axis(scoreTitles[name]), y: axis('groups', { beginAtZero: true }) } },
      });
    });
  }
  document.body.setAttribute('data-rendered', 'true');
})();
`;
