// My day: the funnel and the forecast drawn with ECharts from the page's json_script data.
// The tables beside the charts carry the same numbers, so the page works without this.
(function () {
  "use strict";

  function draw(id, option) {
    var element = document.getElementById(id);
    if (!element || !window.echarts) return;
    var chart = window.echarts.init(element);
    chart.setOption(option);
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function start() {
    var source = document.getElementById("home-data");
    if (!source) return;
    var data = JSON.parse(source.textContent);
    var labels = data.forecast.labels;

    draw("funnel-chart", {
      tooltip: { trigger: "item" },
      series: [{
        type: "funnel",
        sort: "none",
        minSize: "20%",
        label: { show: true, position: "inside", formatter: "{b}: {c}" },
        data: data.funnel.map(function (row) {
          return { name: row.name, value: row.count, amount: row.value };
        }),
        tooltip: {
          formatter: function (p) {
            return p.name + "<br>" + labels.count + ": " + p.value +
              "<br>" + labels.value + ": " + p.data.amount.toLocaleString();
          }
        }
      }]
    });

    var parts = data.forecast.parts;
    var series = parts.map(function (part) {
      return { name: part.name, type: "bar", stack: "forecast", data: [part.value] };
    });
    if (data.forecast.target !== null) {
      series.push({ name: labels.target, type: "bar", data: [data.forecast.target] });
    }
    draw("forecast-chart", {
      tooltip: { trigger: "axis" },
      legend: { type: "scroll", bottom: 0 },
      grid: { left: 8, right: 16, top: 8, bottom: 48, containLabel: true },
      xAxis: { type: "value" },
      yAxis: { type: "category", data: [labels.forecast] },
      series: series
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
