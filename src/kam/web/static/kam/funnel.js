/* Draws the funnel review's two charts from the JSON the page carries
   (#funnel-chart-data), again each time htmx swaps in new figures. The tables
   beside them hold the same figures, so the page reads the same without
   JavaScript or without ECharts. */
(function () {
  "use strict";

  var charts = [];

  function draw() {
    var source = document.getElementById("funnel-chart-data");
    if (!source || typeof window.echarts === "undefined") return;
    var data = JSON.parse(source.textContent);
    charts.forEach(function (chart) { chart.dispose(); });
    charts = [];

    var funnelEl = document.getElementById("funnel-chart");
    if (funnelEl) {
      var funnel = window.echarts.init(funnelEl);
      funnel.setOption({
        tooltip: {
          trigger: "item",
          formatter: function (p) {
            return p.name + "<br>" + data.labels.count + ": " + p.value +
              "<br>" + data.labels.amount + ": " + p.data.amount.toLocaleString();
          }
        },
        series: [{
          type: "funnel",
          sort: "none",
          minSize: "20%",
          left: "10%",
          width: "80%",
          label: { show: true, position: "inside", formatter: "{b}: {c}" },
          data: data.funnel
        }]
      });
      charts.push(funnel);
    }

    var forecastEl = document.getElementById("forecast-chart");
    if (forecastEl) {
      var f = data.forecast;
      var series = f.parts.map(function (part) {
        return { name: part.name, type: "bar", stack: "forecast", data: part.values };
      });
      series.push({
        name: f.target.name, type: "scatter", symbol: "rect", symbolSize: [28, 3],
        data: f.target.values
      });
      var forecast = window.echarts.init(forecastEl);
      forecast.setOption({
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
        legend: { type: "scroll", bottom: 0 },
        grid: { left: 8, right: 8, top: 16, bottom: 64, containLabel: true },
        xAxis: { type: "category", data: f.categories },
        yAxis: { type: "value" },
        series: series
      });
      charts.push(forecast);
    }
  }

  window.addEventListener("resize", function () {
    charts.forEach(function (chart) { chart.resize(); });
  });
  document.addEventListener("htmx:afterSettle", draw);

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
