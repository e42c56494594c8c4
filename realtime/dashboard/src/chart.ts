import { CategoryScale, Chart, Filler, LinearScale, LineController, LineElement, PointElement, Tooltip } from 'chart.js';
import { formatMoney } from './money.js';

// Only what a line chart needs: keeps the bundle small.
Chart.register(LineController, LineElement, PointElement, LinearScale, CategoryScale, Filler, Tooltip);

export interface NetWorthReport {
  currency: string;
  points: { date: string; assets: string; liabilities: string; netWorth: string }[];
  missingRates: { from: string; to: string; date: string }[];
}

let chart: Chart<'line'> | undefined;

/** Draws (or redraws in place) net worth at the end of each month. Numbers only for plotting; labels keep the exact strings. */
export function drawNetWorth(canvas: HTMLCanvasElement, report: NetWorthReport): void {
  const labels = report.points.map((p) => p.date.slice(0, 7));
  const exact = report.points.map((p) => p.netWorth);
  const values = exact.map(Number);
  canvas.setAttribute('aria-label', `Net worth in ${report.currency} at the end of each month: ${report.points.map((p) => `${p.date.slice(0, 7)} ${p.netWorth}`).join(', ')}`);
  if (chart) {
    chart.data.labels = labels;
    chart.data.datasets[0].data = values;
    chart.options.plugins!.tooltip!.callbacks!.label = (ctx) => formatMoney(exact[ctx.dataIndex], report.currency);
    chart.update();
    return;
  }
  chart = new Chart(canvas, {
    type: 'line',
    data: { labels, datasets: [{ label: `Net worth (${report.currency})`, data: values, borderColor: '#1f6feb', backgroundColor: 'rgba(31,111,235,0.12)', fill: true, tension: 0.25 }] },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      plugins: { tooltip: { callbacks: { label: (ctx) => formatMoney(exact[ctx.dataIndex], report.currency) } } },
      scales: { y: { ticks: { maxTicksLimit: 6 } } },
    },
  });
}

export function destroyChart(): void {
  chart?.destroy();
  chart = undefined;
}
