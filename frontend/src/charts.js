// Interactive charts of the web UI, drawn with uPlot (https://github.com/leeoniya/uPlot).
//
// Every element `<div class="chart" data-src="api/...">` gets a chart from the JSON the API returns:
//   {x: "time" | "category", t: [epoch s] | start + step (regular grid), labels: [...] (category; the
//    tooltip's, `axis_labels` shorter ones for the axis when given),
//    unit: "kWh", series: [{label, kind: "bars" | "line" | "step", color: "--css-var", values: [...],
//    stack: "name" (bars of one stack are piled up), unit: "%" (own unit, drawn on a right-hand axis)}],
//    keys: [ISO first day of each category], estimated_days: [ISO days completed from the meter's total]}
// Drag to zoom (double-click resets), hover for a tooltip, click a legend entry to hide a series.
// URLs stay relative so the page works under the Home Assistant ingress prefix.
import uPlot from "uplot";

const lang = document.documentElement.lang || "fr";
const numberFormat = new Intl.NumberFormat(lang, { maximumFractionDigits: 2 });
const zone = "Europe/Paris";
const dayFormat = new Intl.DateTimeFormat(lang, { timeZone: zone, day: "2-digit", month: "2-digit" });
const hourFormat = new Intl.DateTimeFormat(lang, { timeZone: zone, hour: "2-digit", minute: "2-digit" });
const fullFormat = new Intl.DateTimeFormat(lang, {
  timeZone: zone, weekday: "short", day: "2-digit", month: "2-digit", year: "numeric",
  hour: "2-digit", minute: "2-digit",
});
// The chart's own words (the pages pass theirs as data attributes; these are the same on every chart).
const WORDS = {
  fr: {
    estimated: "estimé",
    estimatedNote: "estimé : heures manquantes de la courbe complétées depuis le total journalier du compteur",
  },
  en: {
    estimated: "estimated",
    estimatedNote: "estimated: the curve's missing hours completed from the meter's daily total",
  },
};
const words = WORDS[lang.slice(0, 2)] || WORDS.fr;
const dark = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;

function cssVar(name, fallback) {
  if (!name || !name.startsWith("--")) return name || fallback;
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value || fallback;
}

function xValues(data) {
  if (data.t) return data.t;
  if (data.start !== undefined && data.step) {
    const n = data.series.length ? data.series[0].values.length : 0;
    const t = new Array(n);
    for (let i = 0; i < n; i++) t[i] = data.start + i * data.step;
    return t;
  }
  return (data.labels || []).map((_, i) => i);
}

function formatX(data, value) {
  if (value === null || value === undefined) return "";
  if (data.x === "category") return (data.labels || [])[Math.round(value)] ?? "";
  return fullFormat.format(new Date(value * 1000));
}

const moneyFormat = new Intl.NumberFormat(lang, { minimumFractionDigits: 2, maximumFractionDigits: 2 });

function formatValue(value, unit) {
  if (value === null || value === undefined) return "–";
  return `${(unit === "€" ? moneyFormat : numberFormat).format(value)} ${unit || ""}`.trim();
}

function tooltipPlugin(data, estimated) {
  let tip;
  return {
    hooks: {
      init: (u) => {
        tip = document.createElement("div");
        tip.className = "chart-tip";
        tip.hidden = true;
        u.over.appendChild(tip);
        u.over.addEventListener("mouseleave", () => { tip.hidden = true; });
      },
      setCursor: (u) => {
        const i = u.cursor.idx;
        if (i === null || i === undefined || u.cursor.left < 0) { tip.hidden = true; return; }
        // Every value (labels come from offers, providers, the store) reaches the DOM as text only.
        const rows = [];
        const title = document.createElement("b");
        title.textContent = formatX(data, u.data[0][i]);
        rows.push([title]);
        u.series.forEach((s, k) => {
          if (k === 0 || !s.show) return;
          const value = s._raw[i];
          if (value === null || value === undefined) return;
          const swatch = document.createElement("span");
          swatch.style.color = s._color;
          swatch.textContent = "■";
          rows.push([swatch, ` ${s.label}: ${formatValue(value, s._unit)}`]);
        });
        if (estimated.includes(i)) {
          const mark = document.createElement("span");
          mark.className = "chart-estimated-swatch";
          const note = document.createElement("i");
          note.textContent = ` ${words.estimatedNote}`;
          rows.push([mark, note]);
        }
        const lines = rows.map((parts) => {
          const line = document.createElement("div");
          line.append(...parts);
          return line;
        });
        tip.replaceChildren(...lines);
        tip.hidden = false;
        const left = u.cursor.left, width = u.over.clientWidth;
        tip.style.left = `${Math.min(left + 12, Math.max(0, width - tip.offsetWidth - 4))}px`;
        tip.style.top = `${Math.max(0, u.cursor.top - tip.offsetHeight - 8)}px`;
      },
    },
  };
}

// Categories holding a day whose hours were completed from the meter's daily total (app/hourly_energy.py):
// the indexes whose [key, next key) span holds one of `estimated_days` (ISO dates compare as text).
function estimatedCategories(data) {
  const days = data.estimated_days || [];
  const keys = data.keys || [];
  if (data.x !== "category" || !days.length) return [];
  const marked = [];
  keys.forEach((key, i) => {
    const next = keys[i + 1];
    if (days.some((day) => day >= key && (next === undefined || day < next))) marked.push(i);
  });
  return marked;
}

function hatchPattern(ctx, color) {
  const tile = document.createElement("canvas");
  tile.width = tile.height = 8;
  const pen = tile.getContext("2d");
  if (!pen) return color;
  pen.strokeStyle = color;
  pen.lineWidth = 1.5;
  pen.beginPath();
  pen.moveTo(0, 8);
  pen.lineTo(8, 0);
  pen.stroke();
  return ctx.createPattern(tile, "repeat") || color;
}

// A hatched band behind each estimated category (drawn before the series) and a short label on top of it,
// built as DOM text; estimatedNote() says under the chart what the hatching means.
function estimatedPlugin(data, marked) {
  let labels = [];
  const place = (u) => {
    labels.forEach((label, k) => {
      const i = marked[k];
      const left = u.valToPos(i - 0.5, "x");
      const right = u.valToPos(i + 0.5, "x");
      label.style.left = `${Math.min(left, right)}px`;
      label.style.width = `${Math.abs(right - left)}px`;
      label.hidden = Math.max(left, right) < 0 || Math.min(left, right) > u.over.clientWidth;
    });
  };
  return {
    hooks: {
      init: (u) => {
        labels = marked.map((i) => {
          const label = document.createElement("div");
          label.className = "chart-estimated";
          label.dataset.key = (data.keys || [])[i] || "";
          label.textContent = words.estimated;
          label.title = words.estimatedNote;
          u.over.appendChild(label);
          return label;
        });
      },
      drawAxes: (u) => {
        const ctx = u.ctx;
        const color = cssVar("--estimated", "rgba(214, 122, 0, 0.55)");
        const top = u.bbox.top, height = u.bbox.height;
        ctx.save();
        for (const i of marked) {
          const left = u.valToPos(i - 0.5, "x", true);
          const right = u.valToPos(i + 0.5, "x", true);
          ctx.fillStyle = cssVar("--estimated-tint", "rgba(214, 122, 0, 0.10)");
          ctx.fillRect(Math.min(left, right), top, Math.abs(right - left), height);
          ctx.fillStyle = hatchPattern(ctx, color);
          ctx.fillRect(Math.min(left, right), top, Math.abs(right - left), height);
        }
        ctx.restore();
      },
      draw: [place],
    },
  };
}

function estimatedNote() {
  const note = document.createElement("p");
  note.className = "chart-note";
  const swatch = document.createElement("span");
  swatch.className = "chart-estimated-swatch";
  note.append(swatch, ` ${words.estimatedNote}`);
  return note;
}

// Stacked bars are drawn as running sums, the highest first so that each lower part paints over it;
// `order` is the drawing order (indexes into data.series), `columns` what uPlot draws, `raw` the values
// the legend and the tooltip show.
function layout(data) {
  const stacks = new Map();
  data.series.forEach((s, i) => {
    if (s.kind === "bars" && s.stack) {
      if (!stacks.has(s.stack)) stacks.set(s.stack, []);
      stacks.get(s.stack).push(i);
    }
  });
  const columns = data.series.map((s) => s.values);
  for (const members of stacks.values()) {
    let sum = null;
    for (const i of members) {
      const values = data.series[i].values;
      sum = values.map((v, k) => {
        const below = sum ? sum[k] : null;
        return v === null || v === undefined ? below : (below || 0) + v;
      });
      columns[i] = sum;
    }
  }
  const order = [];
  const placed = new Set();
  data.series.forEach((s, i) => {
    if (placed.has(i)) return;
    const members = s.kind === "bars" && s.stack ? stacks.get(s.stack) : [i];
    for (const k of [...members].reverse()) { order.push(k); placed.add(k); }
  });
  return { order, columns };
}

function seriesOptions(data, order) {
  // Bars side by side: each stack is one group, each bar series without an explicit align another.
  const groups = [];
  data.series.forEach((s, i) => {
    if (s.kind !== "bars" || s.align !== undefined) return;
    const group = s.stack ? `stack:${s.stack}` : `bar:${i}`;
    if (!groups.includes(group)) groups.push(group);
  });
  const grouped = groups.length === 2;
  return order.map((i) => {
    const s = data.series[i];
    const color = cssVar(s.color, "#0a6ebd");
    const options = {
      label: s.label,
      stroke: color,
      width: s.kind === "bars" ? 0 : 2,
      spanGaps: false,
      points: { show: s.kind === "line" && s.values.length <= 60 },
      value: (u, v, k, idx) => formatValue(idx === null || idx === undefined ? v : s.values[idx], s.unit || data.unit),
    };
    options._color = color;
    options._raw = s.values;
    if (s.unit && s.unit !== data.unit) options.scale = s.unit;
    if (s.kind === "bars") {
      const group = s.stack ? `stack:${s.stack}` : `bar:${i}`;
      const index = groups.indexOf(group);
      const align = s.align !== undefined ? s.align : grouped ? (index === 0 ? -1 : 1) : 0;
      options.fill = color;
      options.paths = uPlot.paths.bars({ size: [grouped ? 0.4 : 0.7, 60], align });
    } else if (s.kind === "step") {
      options.paths = uPlot.paths.stepped({ align: 1 });
    }
    if (s.dash) options.dash = [6, 4];
    return options;
  });
}

function draw(el, data) {
  el.replaceChildren();
  const x = xValues(data);
  if (!x.length || !data.series.length) {
    const empty = document.createElement("p");
    empty.className = "chart-empty";
    empty.textContent = el.dataset.empty || "–";
    el.appendChild(empty);
    el.dataset.drawn = "empty";
    return null;
  }
  const axisColor = cssVar("--muted", "#5b6576");
  const gridColor = cssVar("--grid", "rgba(127,127,127,.2)");
  const category = data.x === "category";
  const { order, columns } = layout(data);
  const series = seriesOptions(data, order);
  series.forEach((options, k) => { options._unit = data.series[order[k]].unit || data.unit; });
  const extraUnits = [...new Set(series.map((o) => o.scale).filter(Boolean))];
  const estimated = estimatedCategories(data);
  const options = {
    width: Math.max(280, el.clientWidth),
    height: Number(el.dataset.height || 300),
    scales: { x: { time: !category } },
    series: [{ label: "", value: (u, v) => formatX(data, v) }, ...series],
    axes: [
      {
        stroke: axisColor,
        grid: { stroke: gridColor, width: 1 },
        ticks: { stroke: gridColor },
        space: 70,
        values: (u, splits) => shownLabels(el, splits.map((v) => {
          const span = u.scales.x.max - u.scales.x.min;
          const when = new Date(v * 1000);
          if (span > 8 * 86400) return dayFormat.format(when);
          const hour = hourFormat.format(when);
          // Within a few days: the date at local midnight, the time elsewhere.
          return span > 86400 && /^0?0[:h.]00/.test(hour) ? dayFormat.format(when) : hour;
        })),
        ...(category ? categoryAxis(el, data, extraUnits.length) : {}),
      },
      {
        stroke: axisColor,
        grid: { stroke: gridColor, width: 1 },
        ticks: { stroke: gridColor },
        size: 60,
        values: (u, splits) => splits.map((v) => numberFormat.format(v)),
        label: data.unit || "",
        labelSize: 18,
      },
      ...extraUnits.map((unit) => ({
        scale: unit,
        side: 1,
        stroke: axisColor,
        grid: { show: false },
        size: 60,
        values: (u, splits) => splits.map((v) => numberFormat.format(v)),
        label: unit,
        labelSize: 18,
      })),
    ],
    cursor: { drag: { x: true, y: false, setScale: true } },
    legend: { live: true },
    plugins: [tooltipPlugin(data, estimated), ...(estimated.length ? [estimatedPlugin(data, estimated)] : [])],
    hooks: {
      setScale: [(u, key) => {
        if (key === "x") el.dataset.xrange = `${u.scales.x.min},${u.scales.x.max}`;
      }],
    },
  };
  if (category) {
    options.scales.x.range = (u, min, max) => [min - 0.5, max + 0.5];
  }
  if (data.y_min === undefined && data.series.some((s) => s.kind === "bars")) data.y_min = 0;
  if (data.y_min !== undefined) {
    options.scales.y = { range: (u, min, max) => [data.y_min, Math.max(max, data.y_max ?? max)] };
  }
  for (const unit of extraUnits) {
    options.scales[unit] = { range: (u, min, max) => [Math.min(0, min), Math.max(max, unit === "%" ? 100 : max)] };
  }
  if (category && data.horizontal) horizontalBars(options, el, data);
  const plot = new uPlot(options, [x, ...order.map((i) => columns[i])], el);
  if (estimated.length) el.appendChild(estimatedNote());
  el.dataset.drawn = "1";
  el.dataset.points = String(x.length);
  el.dataset.series = String(data.series.length);
  el.dataset.estimated = JSON.stringify(estimated.map((i) => (data.keys || [])[i]));
  return plot;
}

// ---------------------------------------------------------------------------------------------------
// Axis labels of category charts. Every label when they fit side by side; otherwise a label every k
// categories (k as small as the widest label allows, after trying it on two lines), never a label cut
// or overlapping the next. `data.horizontal` charts (the offers ranking) lay their bars out sideways
// with the full names, wrapped, on the left. The labels drawn are kept in `data-axis-labels` (tests).
const AXIS_FONT = "12px system-ui, -apple-system, \"Segoe UI\", Roboto, sans-serif";
const AXIS_LINE = 15; // px per line of an axis label
const Y_AXIS_SIZE = 60 + 18; // values + unit label, as in draw()
let measure = null;

function textWidth(text) {
  if (!measure) {
    measure = document.createElement("canvas").getContext("2d");
    measure.font = AXIS_FONT;
  }
  return measure ? measure.measureText(text).width : text.length * 7;
}

// A label broken at spaces into lines no wider than `width` px (a word wider than that stays whole).
function wrapLabel(label, width) {
  const lines = [];
  for (const word of String(label).split(" ")) {
    const last = lines.length ? lines[lines.length - 1] : null;
    if (last !== null && textWidth(`${last} ${word}`) <= width) lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(word);
  }
  return lines;
}

function shownLabels(el, labels) {
  el.dataset.axisLabels = JSON.stringify(labels.filter((v) => v !== "" && v !== null && v !== undefined));
  return labels;
}

function categoryAxis(el, data, extraAxes) {
  const labels = (data.axis_labels || data.labels || []).map(String);
  const count = Math.max(1, labels.length);
  const plotWidth = Math.max(280, el.clientWidth) - Y_AXIS_SIZE * (1 + extraAxes) - 10;
  const slot = plotWidth / count;
  const widest = (lines) => Math.max(0, ...lines.map(textWidth)) + 10;
  const oneLine = labels.map((l) => [l]);
  const twoLines = labels.map((l) => {
    const cut = l.lastIndexOf(" ");
    return cut > 0 ? [l.slice(0, cut), l.slice(cut + 1)] : [l];
  });
  const stepOf = (split) => Math.max(1, Math.ceil(Math.max(...split.map(widest)) / slot));
  const split = stepOf(twoLines) < stepOf(oneLine) ? twoLines : oneLine;
  const step = stepOf(split);
  const lines = Math.max(...split.map((l) => l.length));
  // Keep the last category labelled (the latest period), count back from it.
  const offset = (labels.length - 1) % step;
  return {
    font: AXIS_FONT,
    size: 14 + lines * AXIS_LINE,
    splits: (u, axis, min, max) => labels.map((_, i) => i).filter((i) => (i - offset) % step === 0 && i >= min && i <= max),
    values: (u, splits) => shownLabels(el, splits.map((v) => (Number.isInteger(v) ? (split[v] || []).join("\n") : ""))),
  };
}

function horizontalBars(options, el, data) {
  const labels = (data.axis_labels || data.labels || []).map(String);
  const width = Math.max(280, el.clientWidth);
  const room = Math.min(Math.max(...labels.map(textWidth), 60) + 14, Math.round(width * 0.45));
  const wrapped = labels.map((l) => wrapLabel(l, room - 14));
  const rowHeight = Math.max(34, Math.max(...wrapped.map((l) => l.length)) * AXIS_LINE + 20);
  options.height = Math.max(180, labels.length * rowHeight + 60);
  options.scales.x.ori = 1;
  options.scales.x.dir = -1; // the first (cheapest) offer at the top
  options.scales.y = { ...(options.scales.y || {}), ori: 0 };
  const [xAxis, yAxis] = options.axes;
  xAxis.side = 3;
  xAxis.size = room;
  xAxis.splits = () => labels.map((_, i) => i);
  xAxis.values = (u, splits) => shownLabels(el, splits.map((v) => (wrapped[v] || []).join("\n")));
  xAxis.font = AXIS_FONT;
  yAxis.side = 2;
  yAxis.size = 36;
  options.cursor = { ...options.cursor, drag: { x: false, y: false, setScale: false } };
}

async function load(el) {
  const src = el.dataset.src;
  try {
    const response = await fetch(src, { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
    const data = await response.json();
    if (data.total !== undefined && data.total !== null) {
      el.dataset.total = String(data.total);
      const slot = el.closest(".card") && el.closest(".card").querySelector(".chart-total");
      const unit = data.total_unit || data.unit || "kWh";
      if (slot) slot.textContent = `${slot.dataset.label || ""} ${formatValue(data.total, unit)}`.trim();
    }
    let plot = draw(el, data);
    if (window.ResizeObserver) {
      new ResizeObserver(() => {
        if (plot && Math.abs(plot.width - el.clientWidth) > 2) {
          plot.setSize({ width: Math.max(280, el.clientWidth), height: plot.height });
        }
      }).observe(el);
    }
    if (dark) {
      dark.addEventListener("change", () => { if (plot) plot.destroy(); plot = draw(el, data); });
    }
  } catch (error) {
    el.dataset.drawn = "error";
    el.textContent = `${el.dataset.failed || "Chart unavailable"}: ${error.message}`;
  }
}

document.querySelectorAll(".chart[data-src]").forEach((el) => { load(el); });
